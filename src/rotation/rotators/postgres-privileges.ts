import { DbError, type DbSession } from './types.js';
import { ident, literal } from './postgres-sql.js';

/*
 * Keeping the two users of an alternating pair interchangeable on PostgreSQL. The primary's
 * privileges are the reference; the clone is brought to match them on every rotation:
 * role attributes, role memberships, per-role settings, grants on databases, schemas, tables,
 * views, sequences, columns and routines of the secret's database (the primary's ownership counts
 * as all privileges), and default privileges. Objects the clone owns are granted to the primary,
 * and each user's future objects are granted to the other by default privileges, so tables created
 * while one user is current stay usable after the switch. Grants are added before anything is
 * revoked: the clone may be the user applications hold right now.
 */

/** The objects whose ACLs are synchronised: kind (as GRANT names it), name (quoted), owner, ACL. */
const OBJECTS_SQL = `
SELECT 'TABLE' AS kind, format('%I.%I', n.nspname, c.relname) AS name, NULL AS col, c.relowner AS owner,
       coalesce(c.relacl, acldefault('r', c.relowner)) AS acl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
UNION ALL
SELECT 'SEQUENCE', format('%I.%I', n.nspname, c.relname), NULL, c.relowner, coalesce(c.relacl, acldefault('s', c.relowner))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
UNION ALL
SELECT 'COLUMN', format('%I.%I', n.nspname, c.relname), format('%I', a.attname), c.relowner, a.attacl
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
UNION ALL
SELECT 'SCHEMA', format('%I', n.nspname), NULL, n.nspowner, coalesce(n.nspacl, acldefault('n', n.nspowner))
  FROM pg_namespace n WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
UNION ALL
SELECT 'ROUTINE', format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), NULL, p.proowner,
       coalesce(p.proacl, acldefault('f', p.proowner))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
UNION ALL
SELECT 'DATABASE', format('%I', d.datname), NULL, d.datdba, coalesce(d.datacl, acldefault('d', d.datdba))
  FROM pg_database d WHERE d.datallowconn`;

const ACL_SQL = `
WITH roles AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = $1) AS p, (SELECT oid FROM pg_roles WHERE rolname = $2) AS c),
objs AS (${OBJECTS_SQL})
SELECT o.kind, o.name, o.col, CASE o.owner WHEN roles.p THEN 'p' WHEN roles.c THEN 'c' ELSE '' END AS owned_by,
       CASE a.grantee WHEN roles.p THEN 'p' ELSE 'c' END AS who, a.privilege_type AS priv, bool_or(a.is_grantable) AS grantable
  FROM objs o CROSS JOIN roles CROSS JOIN LATERAL aclexplode(o.acl) a
 WHERE a.grantee IN (roles.p, roles.c)
 GROUP BY 1, 2, 3, 4, 5, 6`;

const DEFAULTS_SQL = `
WITH roles AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = $1) AS p, (SELECT oid FROM pg_roles WHERE rolname = $2) AS c)
SELECT pg_get_userbyid(d.defaclrole) AS for_role, d.defaclrole IN (roles.p, roles.c) AS own, n.nspname AS schema, d.defaclobjtype AS objtype,
       CASE a.grantee WHEN roles.p THEN 'p' ELSE 'c' END AS who, a.privilege_type AS priv, a.is_grantable AS grantable,
       d.defaclrole = roles.p AS for_p, d.defaclrole = roles.c AS for_c
  FROM pg_default_acl d CROSS JOIN roles LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
 CROSS JOIN LATERAL aclexplode(d.defaclacl) a
 WHERE a.grantee IN (roles.p, roles.c)`;

const OBJTYPES: Record<string, string> = { r: 'TABLES', S: 'SEQUENCES', f: 'FUNCTIONS', T: 'TYPES', n: 'SCHEMAS' };

type Grant = { priv: string; grantable: boolean };

/** Catalog updates that collide with another session's on the same object; worth another try. */
function transient(e: DbError): boolean {
  return (e.code === 'XX000' && /concurrently/.test(e.message)) || e.code === '40001' || e.code === '40P01';
}

async function exec(s: DbSession, sql: string, doing: string, tolerate: string[] = []): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await s.query(sql);
      return;
    } catch (e) {
      const err = e as DbError;
      const code = err.code ?? '';
      if (tolerate.includes(code)) return;
      // GRANTs on one object from concurrent sessions (two pairs rotating at once) fail with
      // "tuple concurrently updated"; the statement is idempotent, so it is simply run again.
      if (transient(err) && attempt < 8) {
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
        continue;
      }
      throw new DbError(err.kind ?? 'other', `${err.message} (while ${doing})`, code);
    }
  }
}

/** Brings the clone's privileges to the primary's (see the comment at the top of this file). */
export async function syncPrivileges(m: DbSession, primary: string, clone: string): Promise<void> {
  const P = ident(primary);
  const C = ident(clone);
  // Role attributes.
  const attrs = await m.query(
    'SELECT rolname, rolcreatedb, rolcreaterole, rolinherit, rolconnlimit FROM pg_roles WHERE rolname IN ($1, $2)',
    [primary, clone],
  );
  const pa = attrs.find((r) => r.rolname === primary);
  const ca = attrs.find((r) => r.rolname === clone);
  if (!pa || !ca) throw new DbError('other', `role '${pa ? clone : primary}' does not exist`);
  const changes: string[] = [];
  if (pa.rolcreatedb !== ca.rolcreatedb) changes.push(pa.rolcreatedb ? 'CREATEDB' : 'NOCREATEDB');
  if (pa.rolcreaterole !== ca.rolcreaterole) changes.push(pa.rolcreaterole ? 'CREATEROLE' : 'NOCREATEROLE');
  if (pa.rolinherit !== ca.rolinherit) changes.push(pa.rolinherit ? 'INHERIT' : 'NOINHERIT');
  if (pa.rolconnlimit !== ca.rolconnlimit) changes.push(`CONNECTION LIMIT ${Number(pa.rolconnlimit)}`);
  if (changes.length) await exec(m, `ALTER ROLE ${C} WITH ${changes.join(' ')}`, `copying the attributes of '${primary}'`);

  // Role memberships (the clone is never made a member of the primary: grants are copied instead).
  const members = await m.query(
    `SELECT r.rolname AS role, u.rolname AS member, am.admin_option
       FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles u ON u.oid = am.member
      WHERE u.rolname IN ($1, $2)`,
    [primary, clone],
  );
  const pm = new Map(members.filter((r) => r.member === primary).map((r) => [r.role as string, r.admin_option as boolean]));
  const cm = new Map(members.filter((r) => r.member === clone).map((r) => [r.role as string, r.admin_option as boolean]));
  for (const [role, admin] of pm) {
    if (role === clone) continue;
    if (!cm.has(role) || (admin && !cm.get(role))) {
      await exec(m, `GRANT ${ident(role)} TO ${C}${admin ? ' WITH ADMIN OPTION' : ''}`, `granting role '${role}'`);
    }
  }
  for (const [role, admin] of cm) {
    if (role === primary) continue;
    if (!pm.has(role)) await exec(m, `REVOKE ${ident(role)} FROM ${C}`, `revoking role '${role}'`);
    else if (admin && !pm.get(role)) await exec(m, `REVOKE ADMIN OPTION FOR ${ident(role)} FROM ${C}`, `revoking admin of '${role}'`);
  }

  // Per-role settings (search_path and the like).
  await syncSettings(m, primary, clone);

  // Object privileges.
  const rows = await m.query(ACL_SQL, [primary, clone]);
  const byObject = new Map<string, { kind: string; name: string; col: string | null; ownedBy: string; p: Grant[]; c: Grant[] }>();
  for (const r of rows) {
    const key = `${r.kind}\u0000${r.name}\u0000${r.col ?? ''}`;
    let o = byObject.get(key);
    if (!o) byObject.set(key, (o = { kind: r.kind, name: r.name, col: r.col, ownedBy: r.owned_by, p: [], c: [] }));
    (r.who === 'p' ? o.p : o.c).push({ priv: r.priv, grantable: r.grantable });
  }
  const revokes: string[] = [];
  for (const o of byObject.values()) {
    const on = o.kind === 'COLUMN' ? `TABLE ${o.name}` : `${o.kind} ${o.name}`;
    const col = o.col ? ` (${o.col})` : '';
    const [from, to, target] = o.ownedBy === 'c' ? [o.c, o.p, P] : [o.p, o.c, C];
    for (const g of from) {
      const have = to.find((x) => x.priv === g.priv);
      if (!have || (g.grantable && !have.grantable)) {
        await exec(m, `GRANT ${g.priv}${col} ON ${on} TO ${target}${g.grantable ? ' WITH GRANT OPTION' : ''}`, `granting ${g.priv} on ${o.name}`);
      }
    }
    if (o.ownedBy === 'c') continue; // the primary keeps what it has; the clone's own objects are its own
    for (const g of o.c) {
      const want = o.p.find((x) => x.priv === g.priv);
      if (!want) revokes.push(`REVOKE ${g.priv}${col} ON ${on} FROM ${C}`);
      else if (g.grantable && !want.grantable) revokes.push(`REVOKE GRANT OPTION FOR ${g.priv}${col} ON ${on} FROM ${C}`);
    }
  }
  await syncDefaults(m, primary, clone, revokes);
  for (const sql of revokes) await exec(m, sql, 'revoking a privilege the primary does not have');
}

async function syncSettings(m: DbSession, primary: string, clone: string): Promise<void> {
  const rows = await m.query(
    `SELECT r.rolname AS who, coalesce(d.datname, '') AS db, unnest(s.setconfig) AS setting
       FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase
      WHERE r.rolname IN ($1, $2)`,
    [primary, clone],
  );
  const split = (s: string) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)];
  const want = new Map(rows.filter((r) => r.who === primary).map((r) => [`${r.db}\u0000${split(r.setting)[0]}`, split(r.setting)[1]]));
  const have = new Map(rows.filter((r) => r.who === clone).map((r) => [`${r.db}\u0000${split(r.setting)[0]}`, split(r.setting)[1]]));
  for (const [key, value] of want) {
    if (have.get(key) === value) continue;
    const [db, name] = key.split('\u0000');
    const inDb = db ? ` IN DATABASE ${ident(db)}` : '';
    // List settings come back in SQL list syntax ("$user", public); others as plain text.
    const v = /^("[^"]*"|[A-Za-z0-9_$.\-]+)(\s*,\s*("[^"]*"|[A-Za-z0-9_$.\-]+))*$/.test(value) ? value : literal(value);
    await exec(m, `ALTER ROLE ${ident(clone)}${inDb} SET ${ident(name)} = ${v}`, `copying setting ${name}`);
  }
  for (const key of have.keys()) {
    if (want.has(key)) continue;
    const [db, name] = key.split('\u0000');
    await exec(m, `ALTER ROLE ${ident(clone)}${db ? ` IN DATABASE ${ident(db)}` : ''} RESET ${ident(name)}`, `resetting setting ${name}`);
  }
}

async function syncDefaults(m: DbSession, primary: string, clone: string, revokes: string[]): Promise<void> {
  const P = ident(primary);
  const C = ident(clone);
  const rows = await m.query(DEFAULTS_SQL, [primary, clone]);
  const key = (r: Record<string, any>) => `${r.for_role}\u0000${r.schema ?? ''}\u0000${r.objtype}\u0000${r.priv}`;
  const pk = new Map(rows.filter((r) => r.who === 'p' && !r.own).map((r) => [key(r), r]));
  const ck = new Map(rows.filter((r) => r.who === 'c' && !r.own).map((r) => [key(r), r]));
  const clause = (r: Record<string, any>) =>
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(r.for_role)}${r.schema ? ` IN SCHEMA ${ident(r.schema)}` : ''}`;
  for (const [k, r] of pk) {
    const have = ck.get(k);
    if (!have || (r.grantable && !have.grantable)) {
      await exec(m, `${clause(r)} GRANT ${r.priv} ON ${OBJTYPES[r.objtype]} TO ${C}${r.grantable ? ' WITH GRANT OPTION' : ''}`, 'copying default privileges');
    }
  }
  for (const [k, r] of ck) if (!pk.has(k)) revokes.push(`${clause(r)} REVOKE ${r.priv} ON ${OBJTYPES[r.objtype]} FROM ${C}`);
  // Each user's future tables, sequences and routines are granted to the other. Best effort: the
  // master needs membership in both roles (or superuser) to set default privileges for them.
  for (const [owner, grantee] of [[P, C], [C, P]]) {
    for (const objects of ['TABLES', 'SEQUENCES', 'FUNCTIONS']) {
      await exec(m, `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} GRANT ALL ON ${objects} TO ${grantee}`, 'sharing future objects', ['42501']);
    }
  }
}

const DIFF_SQL = `
WITH objs AS (
  SELECT 'table ' || format('%I.%I', n.nspname, c.relname) AS what, p.priv,
         has_table_privilege($1, c.oid, p.priv) AS a, has_table_privilege($2, c.oid, p.priv) AS b
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p(priv)
   WHERE c.relkind IN ('r','v','m','f','p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  UNION ALL
  SELECT 'sequence ' || format('%I.%I', n.nspname, c.relname), p.priv,
         has_sequence_privilege($1, c.oid, p.priv), has_sequence_privilege($2, c.oid, p.priv)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN unnest(ARRAY['USAGE','SELECT','UPDATE']) p(priv)
   WHERE c.relkind = 'S' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  UNION ALL
  SELECT 'column ' || format('%I.%I.%I', n.nspname, c.relname, a.attname), p.priv,
         has_column_privilege($1, c.oid, a.attnum, p.priv), has_column_privilege($2, c.oid, a.attnum, p.priv)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','REFERENCES']) p(priv)
   WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'schema ' || format('%I', n.nspname), p.priv, has_schema_privilege($1, n.oid, p.priv), has_schema_privilege($2, n.oid, p.priv)
    FROM pg_namespace n CROSS JOIN unnest(ARRAY['USAGE','CREATE']) p(priv)
   WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  UNION ALL
  SELECT 'routine ' || format('%I.%I(%s)', n.nspname, f.proname, pg_get_function_identity_arguments(f.oid)), 'EXECUTE',
         has_function_privilege($1, f.oid, 'EXECUTE'), has_function_privilege($2, f.oid, 'EXECUTE')
    FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
   WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  UNION ALL
  SELECT 'database ' || format('%I', d.datname), p.priv, has_database_privilege($1, d.oid, p.priv), has_database_privilege($2, d.oid, p.priv)
    FROM pg_database d CROSS JOIN unnest(ARRAY['CONNECT','CREATE','TEMPORARY']) p(priv) WHERE d.datallowconn
  UNION ALL
  SELECT 'role ' || format('%I', r.rolname), 'MEMBER', pg_has_role($1, r.oid, 'USAGE'), pg_has_role($2, r.oid, 'USAGE')
    FROM pg_roles r WHERE r.rolname NOT IN ($1, $2)
)
SELECT what, priv, a, b FROM objs WHERE a IS DISTINCT FROM b ORDER BY what, priv`;

/** Differences in effective privileges between two roles in the session's database, as sentences. */
export async function differences(s: DbSession, a: string, b: string): Promise<string[]> {
  const out: string[] = [];
  const attrs = await s.query(
    'SELECT rolname, rolcreatedb, rolcreaterole, rolinherit, rolcanlogin FROM pg_roles WHERE rolname IN ($1, $2)',
    [a, b],
  );
  const ra = attrs.find((r) => r.rolname === a);
  const rb = attrs.find((r) => r.rolname === b);
  if (!ra || !rb) return [`role '${ra ? b : a}' does not exist`];
  for (const attr of ['rolcreatedb', 'rolcreaterole', 'rolinherit', 'rolcanlogin']) {
    if (ra[attr] !== rb[attr]) out.push(`'${ra[attr] ? b : a}' lacks ${attr.slice(3).toUpperCase()}`);
  }
  for (const r of await s.query(DIFF_SQL, [a, b])) {
    out.push(`'${r.a ? b : a}' lacks ${r.priv} on ${r.what} that '${r.a ? a : b}' has`);
  }
  return out;
}
