// Findings about the gathering itself: a Docker Engine that could not be reached, and compose
// files that could not be read or rendered. Both limit what every other check can see.

import type { Finding } from '../model.js';
import { type Check, makeFinding } from './check.js';

export const dockerReachabilityCheck: Check = {
    name: 'docker-reachability',
    run(snapshot) {
        const docker = snapshot.docker;
        if (!docker || docker.reachable) return [];
        const tried = docker.attempts.map(
            (a) =>
                `Tried ${a.endpoint.address} (${a.endpoint.source}${a.endpoint.contextName ? ` "${a.endpoint.contextName}"` : ''}): ${a.error ?? 'no answer'}`,
        );
        return [
            makeFinding('engine', {
                kind: 'docker-unreachable',
                severity: snapshot.compose ? 'error' : 'warning',
                title: 'The Docker Engine cannot be reached: container, port and mount checks did not run',
                evidence:
                    tried.length > 0 ? tried : [docker.error ?? 'No Docker endpoint was found.'],
                fix:
                    'Start the Docker Engine (or Docker Desktop), or point DOCKER_HOST, --docker-host or ' +
                    'the Docker context at the engine that runs this stack. Files were still checked.',
                locations: [],
            }),
        ];
    },
};

export const composeProblemsCheck: Check = {
    name: 'compose-problems',
    run(snapshot) {
        const problems = [...snapshot.composeProblems, ...(snapshot.compose?.problems ?? [])];
        const seen = new Set<string>();
        const findings: Finding[] = [];
        for (const problem of problems) {
            const subject = `${problem.range?.file ?? ''}:${problem.range?.line ?? 0}:${problem.message}`;
            if (seen.has(subject)) continue;
            seen.add(subject);
            const what =
                problem.type === 'parse'
                    ? 'cannot be parsed'
                    : problem.type === 'interpolation'
                      ? 'cannot be interpolated'
                      : 'is not valid Compose';
            findings.push(
                makeFinding(subject, {
                    kind: 'compose-render',
                    severity: 'error',
                    title: `${problem.range?.file ?? 'The compose file'} ${what}: ${problem.message}`,
                    evidence: [problem.message],
                    fix:
                        problem.type === 'interpolation'
                            ? "Set the variable in .env or the shell that runs docker compose (a service's own environment: does not feed interpolation)."
                            : 'Fix the file so `docker compose config` accepts it; until then Compose refuses to start the stack.',
                    locations: problem.range ? [{ ...problem.range, key: problem.key }] : [],
                }),
            );
        }
        return findings;
    },
};
