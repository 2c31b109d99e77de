import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageConformance } from '../conformance/suite.js';
import { SqliteStore } from './sqlite-store.js';

storageConformance('sqlite', () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'lockstep-store-')), 'db.sqlite')));
