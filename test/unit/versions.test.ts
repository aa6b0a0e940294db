import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
    compare,
    compareVersions,
    compatibility,
    flagAvailable,
    majorOf,
    majorsAllowed,
    meantVersion,
    parseRequirement,
    parseVersion,
    routeAvailable,
    satisfies,
    serverRequiresRunUuid,
} from '../../src/core/mlflow/versions.js';

void describe('parseVersion', () => {
    void test('reads a plain release', () => {
        assert.deepEqual(parseVersion('2.22.0'), { major: 2, minor: 22, patch: 0, raw: '2.22.0' });
    });

    void test('reads an image tag with a leading v', () => {
        assert.equal(parseVersion('v3.3.0')?.minor, 3);
    });

    void test('fills missing minor and patch with zero', () => {
        const version = parseVersion('3');
        assert.equal(version?.minor, 0);
        assert.equal(version?.patch, 0);
        assert.equal(parseVersion('3.1')?.patch, 0);
    });

    void test('reads a development build of the next release', () => {
        assert.deepEqual(parseVersion('3.11.2.dev0')?.pre, { kind: 'dev', number: 0 });
    });

    void test('reads release candidates written with and without a dot', () => {
        assert.deepEqual(parseVersion('3.0.0rc1')?.pre, { kind: 'rc', number: 1 });
        assert.deepEqual(parseVersion('3.0.0.rc2')?.pre, { kind: 'rc', number: 2 });
        assert.deepEqual(parseVersion('3.0.0rc0')?.pre, { kind: 'rc', number: 0 });
    });

    void test('reads post releases and ignores local labels', () => {
        assert.equal(parseVersion('1.30.1.post1')?.post, 1);
        assert.equal(parseVersion('2.9.2+cpu')?.patch, 2);
    });

    void test('rejects text that is not a version', () => {
        for (const bad of ['', 'latest', 'OK', '<html>', 'mlflow, version 3.3.1', '3.x']) {
            assert.equal(parseVersion(bad), undefined, bad);
        }
    });
});

void describe('compareVersions', () => {
    void test('orders by major, minor and patch numerically', () => {
        assert.ok(compare('2.9.2', '2.22.0') < 0);
        assert.ok(compare('3.0.0', '2.22.5') > 0);
        assert.equal(compare('2.22.1', '2.22.1'), 0);
        assert.equal(compare('3', '3.0.0'), 0);
    });

    void test('puts dev builds before release candidates before the release', () => {
        const ordered = [
            '3.0.0.dev0',
            '3.0.0rc0',
            '3.0.0rc1',
            '3.0.0',
            '3.0.0.post1',
            '3.0.1.dev0',
        ];
        for (let index = 1; index < ordered.length; index++) {
            const older = ordered[index - 1] ?? '';
            const newer = ordered[index] ?? '';
            assert.ok(compareVersions(older, newer) < 0, `${older} < ${newer}`);
        }
    });

    void test('treats a dev build of 2.22.1 as older than the 2.22.1 release', () => {
        assert.ok(compare('2.22.1.dev0', '2.22.1') < 0);
        assert.ok(compare('2.22.1.dev0', '2.22.0') > 0);
    });

    void test('throws on text that is not a version instead of ordering it', () => {
        assert.throws(() => compare('latest', '2.0.0'), /not an MLflow version/);
    });

    void test('is antisymmetric and transitive over generated versions', () => {
        const version = fc
            .tuple(
                fc.integer({ min: 0, max: 4 }),
                fc.integer({ min: 0, max: 30 }),
                fc.integer({ min: 0, max: 5 }),
                fc.constantFrom('', 'rc0', 'rc1', '.dev0', '.post1'),
            )
            .map(([major, minor, patch, suffix]) => `${major}.${minor}.${patch}${suffix}`);
        fc.assert(
            fc.property(version, version, version, (a, b, c) => {
                // `===` because strict equal tells 0 from -0, which the signs give for equal versions.
                assert.ok(Math.sign(compare(a, b)) === -Math.sign(compare(b, a)));
                if (compare(a, b) <= 0 && compare(b, c) <= 0) assert.ok(compare(a, c) <= 0);
            }),
        );
    });

    void test('majorOf gives the major of a version string', () => {
        assert.equal(majorOf('3.17.2'), 3);
        assert.equal(majorOf('nonsense'), undefined);
    });
});

void describe('requirement specs', () => {
    void test('parses a pin with extras', () => {
        const requirement = parseRequirement('mlflow[extras,db]==2.22.0');
        assert.equal(requirement?.name, 'mlflow');
        assert.deepEqual(requirement?.extras, ['extras', 'db']);
        assert.deepEqual(requirement?.clauses, [{ op: '==', version: '2.22.0' }]);
    });

    void test('normalises the distribution name and keeps the marker', () => {
        const requirement = parseRequirement('MLflow_Skinny >= 2.0 ; python_version >= "3.8"');
        assert.equal(requirement?.name, 'mlflow-skinny');
        assert.equal(requirement?.marker, 'python_version >= "3.8"');
    });

    void test('refuses comments, options and URL requirements', () => {
        assert.equal(parseRequirement('# mlflow==2.0'), undefined);
        assert.equal(parseRequirement('-r base.txt'), undefined);
        assert.equal(parseRequirement('mlflow @ https://example.invalid/mlflow.whl'), undefined);
        assert.equal(parseRequirement('mlflow==='), undefined);
    });

    void test('an exact pin means that version', () => {
        assert.deepEqual(meantVersion('mlflow==3.1.0'), { kind: 'exact', version: '3.1.0' });
        assert.deepEqual(meantVersion('mlflow[extras]==2.22.0'), {
            kind: 'exact',
            version: '2.22.0',
        });
    });

    void test('an unpinned requirement means any version', () => {
        assert.deepEqual(meantVersion('mlflow'), { kind: 'any' });
    });

    void test('a range gives its lowest and highest bounds', () => {
        assert.deepEqual(meantVersion('>=2,<3'), {
            kind: 'range',
            lowest: { version: '2.0.0', inclusive: true },
            highest: { version: '3.0.0', inclusive: false },
            excluded: [],
        });
    });

    void test('the compatible-release operator bounds at the next minor or major', () => {
        assert.deepEqual(meantVersion('mlflow~=2.9'), {
            kind: 'range',
            lowest: { version: '2.9.0', inclusive: true },
            highest: { version: '3.0.0', inclusive: false },
            excluded: [],
        });
        const patchLevel = meantVersion('mlflow~=2.9.1');
        assert.equal(patchLevel?.kind, 'range');
        if (patchLevel?.kind === 'range') {
            assert.deepEqual(patchLevel.highest, { version: '2.10.0', inclusive: false });
        }
    });

    void test('a wildcard pin is a range over that series', () => {
        const meant = meantVersion('mlflow==2.9.*');
        assert.equal(meant?.kind, 'range');
        if (meant?.kind === 'range') {
            assert.deepEqual(meant.lowest, { version: '2.9.0', inclusive: true });
            assert.deepEqual(meant.highest, { version: '2.10.0', inclusive: false });
        }
    });

    void test('the tightest of several lower bounds wins', () => {
        const meant = meantVersion('mlflow>=2.1,>2.5,>=2.3');
        assert.equal(meant?.kind, 'range');
        if (meant?.kind === 'range') {
            assert.deepEqual(meant.lowest, { version: '2.5.0', inclusive: false });
        }
    });

    void test('satisfies applies every clause, exclusions included', () => {
        assert.ok(satisfies('2.22.5', '>=2,<3'));
        assert.ok(!satisfies('3.0.0', '>=2,<3'));
        assert.ok(!satisfies('3.0.0rc1', '>=2,<3.0.0rc0'));
        assert.ok(satisfies('2.9.4', '~=2.9.1'));
        assert.ok(!satisfies('2.10.0', '~=2.9.1'));
        assert.ok(!satisfies('2.22.0', 'mlflow>=2,!=2.22.0'));
        assert.ok(!satisfies('2.9.3', 'mlflow!=2.9.*'));
        assert.ok(satisfies('3.17.2', 'mlflow'));
        assert.ok(satisfies('3.1.0', 'mlflow==3.1'));
    });

    void test('majorsAllowed lists the majors a bounded spec allows', () => {
        assert.deepEqual(majorsAllowed('>=2,<3'), [2]);
        assert.deepEqual(majorsAllowed('>=2,<3.1'), [2, 3]);
        assert.deepEqual(majorsAllowed('mlflow==3.1.0'), [3]);
        assert.equal(majorsAllowed('mlflow>=2'), undefined);
    });

    void test('rejects a spec with a broken clause', () => {
        assert.equal(meantVersion('mlflow>=two'), undefined);
    });
});

void describe('what a server version has', () => {
    void test('servers before 2.22.1 need run_uuid in run meta.yaml', () => {
        assert.equal(serverRequiresRunUuid('2.22.0'), true);
        assert.equal(serverRequiresRunUuid('2.17.2'), true);
        assert.equal(serverRequiresRunUuid('1.30.0'), true);
        assert.equal(serverRequiresRunUuid('2.22.1'), false);
        assert.equal(serverRequiresRunUuid('2.22.5'), false);
        assert.equal(serverRequiresRunUuid('3.17.2'), false);
    });

    void test('/version exists from 2.1.0', () => {
        assert.equal(routeAvailable('2.0.1', '/version'), false);
        assert.equal(routeAvailable('2.1.0', 'GET /version'), true);
    });

    void test('logged-model routes exist only in MLflow 3', () => {
        const route = 'POST /api/2.0/mlflow/logged-models/search';
        assert.equal(routeAvailable('2.22.5', route), false);
        assert.equal(routeAvailable('3.0.0', route), true);
        assert.equal(routeAvailable('3.0.0rc1', route), false);
        assert.equal(routeAvailable('2.22.0', '/api/2.0/mlflow/logged-models'), false);
        assert.equal(routeAvailable('3.1.0', '/api/2.0/mlflow/logged-models/m-123?x=1'), true);
    });

    void test('the 1.x list routes are gone from 2.0', () => {
        assert.equal(routeAvailable('1.30.0', '/api/2.0/mlflow/experiments/list'), true);
        assert.equal(routeAvailable('2.0.0', '/api/2.0/mlflow/experiments/list'), false);
        assert.equal(
            routeAvailable('2.2.2', 'POST /api/2.0/preview/mlflow/registered-models/create'),
            false,
        );
    });

    void test('server-info moved from the root to /api/3.0 in 3.10', () => {
        assert.equal(routeAvailable('3.9.0', '/server-info'), true);
        assert.equal(routeAvailable('3.10.0', '/server-info'), false);
        assert.equal(routeAvailable('3.10.0', '/api/3.0/mlflow/server-info'), true);
    });

    void test('an unknown route is unknown, not absent', () => {
        assert.equal(routeAvailable('3.0.0', '/api/2.0/mlflow/something-new'), undefined);
    });

    void test('flags follow the versions they arrived in', () => {
        assert.equal(flagAvailable('1.23.1', '--serve-artifacts'), false);
        assert.equal(flagAvailable('1.24.0', '--serve-artifacts'), true);
        assert.equal(flagAvailable('1.30.0', 'artifacts-destination'), true);
        assert.equal(flagAvailable('1.30.0', '--no-serve-artifacts'), false);
        assert.equal(flagAvailable('2.0.0', '--no-serve-artifacts'), true);
        assert.equal(flagAvailable('2.4.0', '--app-name'), false);
        assert.equal(flagAvailable('2.5.0', '--app-name=basic-auth'), true);
        assert.equal(flagAvailable('3.4.9', '--allowed-hosts'), false);
        assert.equal(flagAvailable('3.5.0', '--allowed-hosts'), true);
        assert.equal(flagAvailable('3.5.0rc0', '--allowed-hosts'), false);
        assert.equal(flagAvailable('3.2.0', '--uvicorn-opts'), false);
        assert.equal(flagAvailable('3.3.0', '--uvicorn-opts'), true);
        assert.equal(flagAvailable('0.8.2', '--backend-store-uri'), false);
        assert.equal(flagAvailable('2.22.0', '--backend-store-uri'), true);
    });

    void test('a flag whose first release is not known is unknown before the version seen with it', () => {
        assert.equal(flagAvailable('2.9.2', '--artifacts-only'), true);
        assert.equal(flagAvailable('1.25.0', '--artifacts-only'), undefined);
        assert.equal(flagAvailable('3.0.0', '--not-a-real-flag'), undefined);
    });
});

void describe('compatibility', () => {
    void test('a 3.x client against a 2.x server breaks logged models and reading 3.x runs', () => {
        const result = compatibility('3.1.0', '2.21.0');
        assert.equal(result.compatible, false);
        assert.equal(result.severity, 'error');
        assert.ok(result.problems.some((p) => p.includes('/api/2.0/mlflow/logged-models')));
        assert.ok(result.problems.some((p) => p.includes("argument: 'run_uuid'")));
        assert.ok(result.problems.some((p) => p.includes('2.22.1')));
    });

    void test('a 3.x client against 2.22.5 still loses logged models but not run reading', () => {
        const result = compatibility('3.17.2', '2.22.5');
        assert.equal(result.compatible, false);
        assert.ok(result.problems.some((p) => p.includes('logged-models')));
        assert.ok(!result.problems.some((p) => p.includes('run_uuid')));
    });

    void test('a 2.x client against a 3.x server is supported with a note about models', () => {
        const result = compatibility('2.22.0', '3.17.2');
        assert.equal(result.compatible, true);
        assert.equal(result.severity, 'info');
        assert.equal(result.details.length, 1);
        assert.ok(result.problems[0]?.includes('runs:/'));
    });

    void test('a 1.x client against a 2.x server hits removed list routes', () => {
        const result = compatibility('1.30.1', '2.2.2');
        assert.equal(result.compatible, false);
        assert.ok(result.problems.some((p) => p.includes('experiments/list')));
        assert.ok(!result.problems.some((p) => p.includes('mlflow-artifacts:')));
    });

    void test('a client older than 1.24 cannot use mlflow-artifacts: URIs', () => {
        const result = compatibility('1.20.0', '2.9.2');
        assert.ok(result.problems.some((p) => p.includes('mlflow-artifacts:')));
    });

    void test('a client two majors behind is outside the support policy', () => {
        const result = compatibility('1.30.0', '3.1.0');
        assert.ok(
            result.details.some((p) => p.severity === 'warning' && p.message.includes('major')),
        );
    });

    void test('the same version is compatible with no problems', () => {
        assert.deepEqual(compatibility('2.22.0', '2.22.0'), {
            compatible: true,
            severity: 'info',
            problems: [],
            details: [],
        });
    });

    void test('a newer client of the same major gets an informational note', () => {
        const result = compatibility('2.22.0', '2.9.2');
        assert.equal(result.compatible, true);
        assert.equal(result.details[0]?.severity, 'info');
    });

    void test('an unparseable version is reported, not treated as compatible', () => {
        const result = compatibility('latest', '2.22.0');
        assert.equal(result.compatible, false);
        assert.match(result.problems[0] ?? '', /client latest/);
    });
});
