import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accountOptionsSql, alterAccountSql, createUserSql, describeAccountDifferences, describeGrantDifferences, expandAllPrivileges,
  identifiedBy, objectsNeedingExpansion, parseCreateUser, parseGrantLine, parseGrants, planGrantSync, quoteAccount, quoteIdent,
  tokenize, type GrantTuple,
} from './mysql-grants.js';

/** A tuple as `kind object privilege[ column]`, for compact expectations. */
const fmt = (t: GrantTuple) => [t.kind, t.object, t.privilege, t.column].filter(Boolean).join(' ');
const parse = (line: string) => parseGrantLine(line).map(fmt);
const tuples = (...lines: string[]) => parseGrants(lines);

describe('tokenize and quoting', () => {
  test('quoted identifiers and strings unescape doubled quotes and backslashes', () => {
    const t = tokenize("`a``b` 'c''d\\'e' \"f\" x1.y");
    assert.deepEqual(t.map((x) => [x.type, x.value]), [
      ['ident', 'a`b'], ['string', "c'd'e"], ['string', 'f'], ['word', 'x1'], ['punct', '.'], ['word', 'y'],
    ]);
  });
  test('NO_BACKSLASH_ESCAPES keeps backslashes literal', () => {
    assert.deepEqual(tokenize("'a\\' 'b'", true).map((x) => x.value), ['a\\', 'b']);
  });
  test('an unterminated quote throws', () => {
    assert.throws(() => tokenize("GRANT SELECT ON `x TO 'a'"), /unterminated/);
  });
  test('quoteIdent and quoteAccount double backticks', () => {
    assert.equal(quoteIdent('t`q'), '`t``q`');
    assert.equal(quoteAccount("ls'x q", '%'), "`ls'x q`@`%`");
    assert.equal(quoteAccount('role'), '`role`');
  });
});

describe('parseGrantLine', () => {
  // Lines printed by MariaDB 10.11.19 (SHOW GRANTS FOR …) for users created with the grants named.
  const mariadb: [string, string[]][] = [
    ['GRANT `lsx_role` TO `lsx`@`%`', ['role `lsx_role` ROLE']],
    ['GRANT `lsx_role` TO `lsx`@`localhost` WITH ADMIN OPTION', ['role `lsx_role` ROLE', 'role `lsx_role` ADMIN OPTION']],
    [
      "GRANT USAGE ON *.* TO `lsx`@`%` IDENTIFIED BY PASSWORD '*2B602296A79E0A8784ACC5C88D92E46588CCA3C3' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10 MAX_USER_CONNECTIONS 3",
      [],
    ],
    ['GRANT SELECT, INSERT ON `lsx shop`.* TO `lsx`@`%` WITH GRANT OPTION', [
      'privilege `lsx shop`.* SELECT', 'privilege `lsx shop`.* INSERT', 'privilege `lsx shop`.* GRANT OPTION',
    ]],
    ['GRANT SELECT (`b c`, `a`), UPDATE (`a`), DELETE ON `lsx shop`.`t``q` TO `lsx`@`%`', [
      'privilege `lsx shop`.`t``q` SELECT `b c`', 'privilege `lsx shop`.`t``q` SELECT `a`',
      'privilege `lsx shop`.`t``q` UPDATE `a`', 'privilege `lsx shop`.`t``q` DELETE',
    ]],
    ['GRANT SELECT, SELECT (`a`), INSERT, INSERT (`a`) ON `lsx shop`.`t``q` TO `lsv`@`%`', [
      'privilege `lsx shop`.`t``q` SELECT', 'privilege `lsx shop`.`t``q` SELECT `a`',
      'privilege `lsx shop`.`t``q` INSERT', 'privilege `lsx shop`.`t``q` INSERT `a`',
    ]],
    ['GRANT EXECUTE, ALTER ROUTINE ON PROCEDURE `lsx shop`.`p` TO `lsx`@`%`', [
      'privilege PROCEDURE `lsx shop`.`p` EXECUTE', 'privilege PROCEDURE `lsx shop`.`p` ALTER ROUTINE',
    ]],
    ['GRANT EXECUTE ON FUNCTION `lsx shop`.`f` TO `lsx`@`%`', ['privilege FUNCTION `lsx shop`.`f` EXECUTE']],
    ['SET DEFAULT ROLE `lsx_role` FOR `lsx`@`%`', ['default-role `lsx_role` DEFAULT ROLE']],
    [
      "GRANT RELOAD, PROCESS ON *.* TO `lsx`@`localhost` IDENTIFIED BY PASSWORD '*2B60' REQUIRE ISSUER '/C=FI/O=x' SUBJECT '/CN=a''b' CIPHER 'EDH-RSA-DES-CBC3-SHA'",
      ['privilege *.* RELOAD', 'privilege *.* PROCESS'],
    ],
    ["GRANT ALL PRIVILEGES ON `lsx shop`.* TO `ls'x q`@`%`", ['privilege `lsx shop`.* ALL PRIVILEGES']],
    [
      "GRANT SUPER ON *.* TO `lsy`@`%` IDENTIFIED BY PASSWORD '*D821' WITH GRANT OPTION MAX_QUERIES_PER_HOUR 5",
      ['privilege *.* SUPER', 'privilege *.* GRANT OPTION'],
    ],
    [
      "GRANT SUPER ON *.* TO `lsy`@`%` IDENTIFIED VIA mysql_native_password USING '*B690' OR unix_socket WITH GRANT OPTION MAX_STATEMENT_TIME 2.500000",
      ['privilege *.* SUPER', 'privilege *.* GRANT OPTION'],
    ],
    ['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED VIA unix_socket OR mysql_native_password WITH GRANT OPTION', [
      'privilege *.* ALL PRIVILEGES', 'privilege *.* GRANT OPTION',
    ]],
    ['GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION', ['proxy ``@`%` PROXY', 'proxy ``@`%` GRANT OPTION']],
    ['GRANT PROXY ON `lsx`@`%` TO `lsw`@`%`', ['proxy `lsx`@`%` PROXY']],
    ['GRANT USAGE ON `lsx shop`.`t``q` TO `lsy`@`%` WITH GRANT OPTION', ['privilege `lsx shop`.`t``q` GRANT OPTION']],
    ['GRANT DELETE HISTORY, SHOW VIEW ON `a.b`.`c d` TO `u`@`h`', ['privilege `a.b`.`c d` DELETE HISTORY', 'privilege `a.b`.`c d` SHOW VIEW']],
  ];
  for (const [line, want] of mariadb) test(`MariaDB: ${line.slice(0, 90)}`, () => assert.deepEqual(parse(line), want));

  // MySQL 5.7 / 8.0 forms (from the MySQL reference manual and servers' output).
  const mysql8: [string, string[]][] = [
    ['GRANT USAGE ON *.* TO `app`@`%`', []],
    ["GRANT USAGE ON *.* TO 'app'@'%'", []],
    ["GRANT SELECT, INSERT ON `shop`.* TO 'app'@'%' WITH GRANT OPTION", ['privilege `shop`.* SELECT', 'privilege `shop`.* INSERT', 'privilege `shop`.* GRANT OPTION']],
    ['GRANT SELECT (`a`, `b`), UPDATE (`a`) ON `shop`.`t` TO `app`@`%`', [
      'privilege `shop`.`t` SELECT `a`', 'privilege `shop`.`t` SELECT `b`', 'privilege `shop`.`t` UPDATE `a`',
    ]],
    ['GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ADMIN,BACKUP_ADMIN ON *.* TO `root`@`localhost` WITH GRANT OPTION', [
      'privilege *.* APPLICATION_PASSWORD_ADMIN', 'privilege *.* AUDIT_ADMIN', 'privilege *.* BACKUP_ADMIN', 'privilege *.* GRANT OPTION',
    ]],
    ['GRANT `r1`@`%`,`r2`@`localhost` TO `app`@`%`', ['role `r1`@`%` ROLE', 'role `r2`@`localhost` ROLE']],
    ['GRANT `r1`@`%` TO `app`@`%` WITH ADMIN OPTION', ['role `r1`@`%` ROLE', 'role `r1`@`%` ADMIN OPTION']],
    ['GRANT PROXY ON ``@`` TO `root`@`localhost` WITH GRANT OPTION', ['proxy ``@`` PROXY', 'proxy ``@`` GRANT OPTION']],
    ['REVOKE INSERT, UPDATE ON `mysql`.* FROM `u`@`%`', ['partial-revoke `mysql`.* INSERT', 'partial-revoke `mysql`.* UPDATE']],
    ['GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `app`@`%`', ['privilege PROCEDURE `shop`.`p` EXECUTE']],
    ['GRANT ALL ON shop.t TO app@localhost', ['privilege `shop`.`t` ALL PRIVILEGES']],
    ['GRANT SELECT ON TABLE `shop`.`t` TO `app`@`%`', ['privilege `shop`.`t` SELECT']],
  ];
  for (const [line, want] of mysql8) test(`MySQL: ${line.slice(0, 90)}`, () => assert.deepEqual(parse(line), want));

  test('unknown statements are refused rather than ignored', () => {
    assert.throws(() => parseGrantLine('CREATE USER x'), /not a grant/);
    assert.throws(() => parseGrantLine('GRANT SELECT ON x.*'), /no TO/);
  });
  test('parseGrants de-duplicates and sorts', () => {
    const a = tuples('GRANT SELECT ON `d`.* TO `u`@`%`', 'GRANT INSERT, SELECT ON `d`.* TO `u`@`%`');
    assert.deepEqual(a.map(fmt), ['privilege `d`.* INSERT', 'privilege `d`.* SELECT']);
  });
});

describe('parseCreateUser', () => {
  test('MariaDB: TLS subject, limits, lock and an expired password with its interval on a second row', () => {
    const p = parseCreateUser([
      "CREATE USER `lsx`@`localhost` IDENTIFIED BY PASSWORD '*2B60' REQUIRE ISSUER '/C=FI/O=x' SUBJECT '/CN=a''b' CIPHER 'EDH-RSA-DES-CBC3-SHA' ACCOUNT LOCK PASSWORD EXPIRE",
      'ALTER USER `lsx`@`localhost` PASSWORD EXPIRE INTERVAL 30 DAY',
    ]);
    assert.equal(p.account, '`lsx`@`localhost`');
    assert.equal(p.auth, "IDENTIFIED BY PASSWORD '*2B60'");
    assert.equal(p.require, "ISSUER '/C=FI/O=x' AND SUBJECT '/CN=a''b' AND CIPHER 'EDH-RSA-DES-CBC3-SHA'");
    assert.equal(p.lock, 'ACCOUNT LOCK');
    assert.deepEqual(p.password, ['PASSWORD EXPIRE', 'PASSWORD EXPIRE INTERVAL 30 DAY']);
    // The clone copies everything but the immediate expiry.
    assert.equal(
      createUserSql(p, "'c'@'localhost'", "IDENTIFIED BY 'pw'"),
      "CREATE USER 'c'@'localhost' IDENTIFIED BY 'pw' REQUIRE ISSUER '/C=FI/O=x' AND SUBJECT '/CN=a''b' AND CIPHER 'EDH-RSA-DES-CBC3-SHA' PASSWORD EXPIRE INTERVAL 30 DAY ACCOUNT LOCK",
    );
  });
  test('MariaDB: REQUIRE SSL, limits with a decimal statement time, IDENTIFIED VIA … OR …', () => {
    const p = parseCreateUser([
      "CREATE USER `lsy`@`%` IDENTIFIED VIA mysql_native_password USING '*B690' OR unix_socket REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10 MAX_STATEMENT_TIME 2.500000",
    ]);
    assert.equal(p.auth, "IDENTIFIED VIA mysql_native_password USING '*B690' OR unix_socket");
    assert.equal(p.require, 'SSL');
    assert.deepEqual(p.limits, { MAX_QUERIES_PER_HOUR: '10', MAX_STATEMENT_TIME: '2.500000' });
    assert.equal(accountOptionsSql(p), 'REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10 MAX_STATEMENT_TIME 2.500000');
  });
  test('MySQL 8: hex hash, default roles, password options, attribute', () => {
    const p = parseCreateUser([
      "CREATE USER `app`@`%` IDENTIFIED WITH 'caching_sha2_password' AS 0x244124303035 DEFAULT ROLE `r1`@`%`,`r2`@`%` REQUIRE X509 WITH MAX_USER_CONNECTIONS 4 PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 2 ATTRIBUTE '{\"team\": \"a\"}'",
    ]);
    assert.equal(p.auth, "IDENTIFIED WITH 'caching_sha2_password' AS 0x244124303035");
    assert.deepEqual(p.defaultRoles, ['`r1`@`%`', '`r2`@`%`']);
    assert.equal(p.require, 'X509');
    assert.deepEqual(p.limits, { MAX_USER_CONNECTIONS: '4' });
    assert.equal(p.lock, 'ACCOUNT UNLOCK');
    assert.deepEqual(p.password, ['PASSWORD EXPIRE DEFAULT', 'PASSWORD HISTORY DEFAULT', 'PASSWORD REUSE INTERVAL DEFAULT', 'PASSWORD REQUIRE CURRENT DEFAULT']);
    assert.deepEqual(p.other, ['FAILED_LOGIN_ATTEMPTS 3', 'PASSWORD_LOCK_TIME 2', 'ATTRIBUTE \'{"team": "a"}\'']);
    assert.match(createUserSql(p, '`c`@`%`', "IDENTIFIED BY 'x'"), /^CREATE USER `c`@`%` IDENTIFIED BY 'x' REQUIRE X509 WITH MAX_USER_CONNECTIONS 4 PASSWORD EXPIRE DEFAULT/);
    assert.doesNotMatch(createUserSql(p, '`c`@`%`', "IDENTIFIED BY 'x'"), /DEFAULT ROLE/);
  });
  test('MySQL: REQUIRE with AND and a REQUIRE NONE', () => {
    assert.equal(parseCreateUser(["CREATE USER 'a'@'%' REQUIRE SUBJECT '/CN=x' AND ISSUER '/CN=ca'"]).require, "ISSUER '/CN=ca' AND SUBJECT '/CN=x'");
    assert.equal(parseCreateUser(["CREATE USER 'a'@'%' IDENTIFIED BY PASSWORD '*X' REQUIRE NONE"]).require, 'NONE');
  });
  test('identifiedBy keeps a password plugin', () => {
    assert.equal(identifiedBy("IDENTIFIED BY PASSWORD '*X'", "'p'", 'mariadb'), "IDENTIFIED BY 'p'");
    assert.equal(identifiedBy("IDENTIFIED VIA unix_socket OR ed25519 USING 'h'", "'p'", 'mariadb'), "IDENTIFIED VIA ed25519 USING PASSWORD('p')");
    assert.equal(identifiedBy("IDENTIFIED WITH 'caching_sha2_password' AS 0x24", "'p'", 'mysql'), "IDENTIFIED WITH caching_sha2_password BY 'p'");
    assert.equal(identifiedBy('IDENTIFIED VIA unix_socket', "'p'", 'mariadb'), "IDENTIFIED BY 'p'");
    assert.equal(identifiedBy('', "'p'", 'mysql'), "IDENTIFIED BY 'p'");
  });
  test('alterAccountSql and describeAccountDifferences compare TLS and limits', () => {
    const a = parseCreateUser(['CREATE USER `a`@`%` REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10']);
    const b = parseCreateUser(['CREATE USER `b`@`%` WITH MAX_USER_CONNECTIONS 2 MAX_QUERIES_PER_HOUR 10']);
    assert.equal(alterAccountSql(a, b, "'b'@'%'"), "ALTER USER 'b'@'%' REQUIRE SSL WITH MAX_USER_CONNECTIONS 0");
    assert.equal(alterAccountSql(a, a, "'a'@'%'"), undefined);
    assert.deepEqual(describeAccountDifferences(a, b, 'a@%', 'b@%'), [
      'b@% has REQUIRE NONE but a@% has REQUIRE SSL',
      'b@% has MAX_USER_CONNECTIONS 2 but a@% has 0',
    ]);
    assert.equal(alterAccountSql(parseCreateUser(['CREATE USER `a`@`%` WITH MAX_STATEMENT_TIME 0.000000']), parseCreateUser(['CREATE USER `b`@`%`']), 'x'), undefined);
  });
});

describe('planGrantSync', () => {
  const T = "'app_clone'@'%'";
  test('grants what the clone lacks, then revokes what it has beyond the primary (never REVOKE ALL)', () => {
    const primary = tuples('GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`', 'GRANT SELECT (`a`, `b c`) ON `shop`.`t` TO `app`@`%`');
    const clone = tuples('GRANT SELECT, DELETE ON `shop`.* TO `app_clone`@`%`', 'GRANT SELECT (`a`), UPDATE (`a`) ON `shop`.`t` TO `app_clone`@`%`');
    assert.deepEqual(planGrantSync(primary, clone, T, 'mariadb'), {
      add: ["GRANT INSERT ON `shop`.* TO 'app_clone'@'%'", "GRANT SELECT (`b c`) ON `shop`.`t` TO 'app_clone'@'%'"],
      remove: ["REVOKE DELETE ON `shop`.* FROM 'app_clone'@'%'", "REVOKE UPDATE (`a`) ON `shop`.`t` FROM 'app_clone'@'%'"],
    });
  });
  test('equal grants plan nothing', () => {
    const g = tuples('GRANT `r` TO `a`@`%`', 'GRANT SELECT ON *.* TO `a`@`%` WITH GRANT OPTION');
    assert.deepEqual(planGrantSync(g, g, T, 'mariadb'), { add: [], remove: [] });
  });
  test('grant option: added with the primary privileges on that object, revoked on its own', () => {
    const primary = tuples('GRANT SELECT ON `d`.* TO `a`@`%` WITH GRANT OPTION', 'GRANT EXECUTE ON FUNCTION `d`.`f` TO `a`@`%`');
    const clone = tuples('GRANT SELECT ON `d`.* TO `b`@`%`', 'GRANT EXECUTE ON FUNCTION `d`.`f` TO `b`@`%` WITH GRANT OPTION');
    assert.deepEqual(planGrantSync(primary, clone, T, 'mariadb'), {
      add: [`GRANT SELECT ON \`d\`.* TO ${T} WITH GRANT OPTION`],
      remove: [`REVOKE GRANT OPTION ON FUNCTION \`d\`.\`f\` FROM ${T}`],
    });
    const onlyGo = tuples('GRANT USAGE ON *.* TO `a`@`%` WITH GRANT OPTION');
    assert.deepEqual(planGrantSync(onlyGo, [], T, 'mariadb').add, [`GRANT USAGE ON *.* TO ${T} WITH GRANT OPTION`]);
  });
  test("the primary's ALL PRIVILEGES covers the clone's individual privileges on that object", () => {
    const primary = tuples('GRANT ALL PRIVILEGES ON `d`.* TO `a`@`%`');
    const clone = tuples('GRANT SELECT, INSERT ON `d`.* TO `b`@`%`');
    assert.deepEqual(planGrantSync(primary, clone, T, 'mariadb'), { add: [`GRANT ALL PRIVILEGES ON \`d\`.* TO ${T}`], remove: [] });
  });
  test("the clone's ALL PRIVILEGES must be expanded, then only the surplus is revoked", () => {
    const primary = tuples('GRANT SELECT ON `d`.* TO `a`@`%`');
    let clone = tuples('GRANT ALL PRIVILEGES ON `d`.* TO `b`@`%`');
    assert.deepEqual(objectsNeedingExpansion(primary, clone), ['`d`.*']);
    assert.throws(() => planGrantSync(primary, clone, T, 'mariadb'), /expand ALL PRIVILEGES/);
    clone = expandAllPrivileges(clone, '`d`.*', ['SELECT', 'INSERT', 'DELETE HISTORY']);
    assert.deepEqual(planGrantSync(primary, clone, T, 'mariadb'), { add: [], remove: [`REVOKE INSERT, DELETE HISTORY ON \`d\`.* FROM ${T}`] });
  });
  test('revoking a table-level privilege re-grants the column grants it takes along', () => {
    const primary = tuples('GRANT SELECT (`a`) ON `d`.`t` TO `a`@`%`');
    const clone = tuples('GRANT SELECT, SELECT (`a`) ON `d`.`t` TO `b`@`%`');
    assert.deepEqual(planGrantSync(primary, clone, T, 'mariadb').remove, [
      `REVOKE SELECT ON \`d\`.\`t\` FROM ${T}`, `GRANT SELECT (\`a\`) ON \`d\`.\`t\` TO ${T}`,
    ]);
  });
  test('MariaDB roles: grant with admin option, default role, revoke of the admin option alone', () => {
    const primary = tuples('GRANT `r1` TO `a`@`%` WITH ADMIN OPTION', 'GRANT `r2` TO `a`@`%`', 'SET DEFAULT ROLE `r1` FOR `a`@`%`');
    const clone = tuples('GRANT `r2` TO `b`@`%` WITH ADMIN OPTION', 'GRANT `r3` TO `b`@`%`');
    assert.deepEqual(planGrantSync(primary, clone, T, 'mariadb'), {
      add: [`GRANT \`r1\` TO ${T} WITH ADMIN OPTION`, `SET DEFAULT ROLE \`r1\` FOR ${T}`],
      remove: [`REVOKE ADMIN OPTION FOR \`r2\` FROM ${T}`, `REVOKE \`r3\` FROM ${T}`],
    });
    assert.deepEqual(planGrantSync(tuples('GRANT `r` TO `a`@`%`'), tuples('GRANT `r` TO `b`@`%`', 'SET DEFAULT ROLE `r` FOR `b`@`%`'), T, 'mariadb').remove, [
      `SET DEFAULT ROLE NONE FOR ${T}`,
    ]);
  });
  test('MySQL roles, default roles and partial revokes', () => {
    const primary = [...tuples('GRANT `r1`@`%`,`r2`@`%` TO `a`@`%`', 'GRANT SELECT ON *.* TO `a`@`%`', 'REVOKE SELECT ON `mysql`.* FROM `a`@`%`'),
      { kind: 'default-role' as const, object: '`r1`@`%`', privilege: 'DEFAULT ROLE' }];
    const clone = tuples('GRANT `r2`@`%` TO `b`@`%` WITH ADMIN OPTION', 'GRANT SELECT ON *.* TO `b`@`%`');
    assert.deepEqual(planGrantSync(primary, clone, T, 'mysql'), {
      add: [`GRANT \`r1\`@\`%\` TO ${T}`, `SET DEFAULT ROLE \`r1\`@\`%\` TO ${T}`],
      remove: [`REVOKE SELECT ON \`mysql\`.* FROM ${T}`, `REVOKE \`r2\`@\`%\` FROM ${T}`, `GRANT \`r2\`@\`%\` TO ${T}`],
    });
  });
  test('proxy grants', () => {
    const primary = tuples('GRANT PROXY ON `x`@`%` TO `a`@`%` WITH GRANT OPTION');
    const clone = tuples('GRANT PROXY ON `y`@`%` TO `b`@`%`');
    assert.deepEqual(planGrantSync(primary, clone, T, 'mariadb'), {
      add: [`GRANT PROXY ON \`x\`@\`%\` TO ${T} WITH GRANT OPTION`],
      remove: [`REVOKE PROXY ON \`y\`@\`%\` FROM ${T}`],
    });
  });
});

describe('describeGrantDifferences', () => {
  test('names what each side lacks', () => {
    const a = tuples('GRANT SELECT ON `shop`.* TO `app`@`%`', 'GRANT `r` TO `app`@`%`');
    const b = tuples('GRANT INSERT ON `shop`.`t` TO `app_clone`@`%`', 'GRANT UPDATE (`c`) ON `shop`.`t` TO `app_clone`@`%`');
    assert.deepEqual(describeGrantDifferences(a, b, 'app@%', 'app_clone@%'), [
      'app_clone@% lacks SELECT on `shop`.*',
      'app_clone@% lacks role `r`',
      'app_clone@% has INSERT on `shop`.`t` that app@% lacks',
      'app_clone@% has UPDATE (`c`) on `shop`.`t` that app@% lacks',
    ]);
    assert.deepEqual(describeGrantDifferences(a, a, 'x', 'y'), []);
  });
});
