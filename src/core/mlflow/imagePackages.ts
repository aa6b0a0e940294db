// Which Python packages an image or a start-up script installs, as far as the files say: the
// official MLflow image ships none of the drivers, a `pip install` line adds what it names, and
// `mlflow[extra]` pulls in that extra's packages. Used to tell whether a backend, an artifact
// store or the auth app can load before anything is started.

import { scriptCommands } from '../compose/shellSplit.js';
import {
    instructionsOf,
    isMlflowImage,
    parseImageReference,
    versionFromTag,
} from './serverConfig.js';
import { isAtLeast } from './versions.js';

/** Extras of the `mlflow` distribution and the packages each adds (pyproject.release.toml). */
const MLFLOW_EXTRAS: Record<string, string[]> = {
    db: ['pymysql', 'psycopg2-binary', 'pymssql'],
    extras: ['boto3', 'botocore', 'google-cloud-storage', 'pysftp', 'pyarrow', 'kubernetes'],
    auth: ['flask-wtf'],
    azure: ['azure-storage-blob', 'azure-identity'],
};

/** PEP 503 normalised name: `Flask_WTF` and `flask-wtf` are one package. */
export function normalisePackage(name: string): string {
    return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Requirement names a `pip install` command installs (with `mlflow[...]` extras expanded), or
 * `undefined` when argv is not a pip install. `-r file` entries are returned as `-r:<file>`.
 */
export function pipInstallPackages(argv: string[]): string[] | undefined {
    const base = (w: string) => w.slice(w.lastIndexOf('/') + 1);
    let start = argv.findIndex((w, i) => /^pip[\d.]*$/.test(base(w)) && argv[i + 1] === 'install');
    if (start < 0) {
        start = argv.findIndex(
            (w, i) => w === 'pip' && argv[i - 1] === '-m' && argv[i + 1] === 'install',
        );
    }
    if (start < 0) return undefined;
    const out: string[] = [];
    const words = argv.slice(start + 2);
    for (let i = 0; i < words.length; i++) {
        const word = (words[i] ?? '').replace(/^["']|["']$/g, '');
        if (word === '-r' || word === '--requirement') {
            out.push(`-r:${words[i + 1] ?? ''}`);
            i++;
            continue;
        }
        if (/^(-c|--constraint|-i|--index-url|--extra-index-url|-f|--find-links)$/.test(word)) {
            i++;
            continue;
        }
        if (word.startsWith('-')) continue;
        const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]*)\])?/.exec(word);
        if (!m) continue;
        const name = normalisePackage(m[1] ?? '');
        out.push(name);
        if (name === 'mlflow' || name === 'mlflow-skinny') {
            for (const extra of (m[2] ?? '').split(',').map((e) => e.trim())) {
                out.push(...(MLFLOW_EXTRAS[extra] ?? []));
            }
        }
    }
    return out;
}

/** The packages every `pip install` in a shell script installs. */
export function scriptPipPackages(script: string): string[] {
    return scriptCommands(script).flatMap((argv) => pipInstallPackages(argv) ?? []);
}

export interface ImagePackages {
    /** The image the packages sit on, as written. */
    base: string;
    /**
     * True when the base's own packages are known (the official MLflow image, a plain Python
     * image); false for an image we know nothing about, so absence proves nothing.
     */
    baseKnown: boolean;
    /** Packages the base image already has. */
    basePackages: string[];
    /** Packages added on top (Dockerfile RUN lines, a start-up `pip install`). */
    added: string[];
    /** `pip install` lines that name an unpinned `mlflow`, with their Dockerfile line. */
    unpinnedMlflow: { line: number; word: string }[];
    /** Requirement files installed with `-r`, which may hold anything. */
    requirementFiles: string[];
}

const PLAIN_PYTHON = /^(?:docker\.io\/)?(?:library\/)?(python|pypy)$/;

/** What an image reference alone says about its packages. */
export function basePackagesOf(
    image: string,
): Omit<ImagePackages, 'added' | 'unpinnedMlflow' | 'requirementFiles'> {
    const ref = parseImageReference(image);
    if (PLAIN_PYTHON.test(ref.repository))
        return { base: image, baseKnown: true, basePackages: [] };
    if (isMlflowImage(image) && /(^|\/)mlflow\/mlflow$/.test(ref.repository)) {
        // `-full` images (3.9.0+) install mlflow[extras,db,gateway,genai]; the rest only mlflow.
        const version = versionFromTag(ref.tag);
        const full =
            /-full$/.test(ref.tag ?? '') &&
            (ref.tag === 'latest-full' || (version !== undefined && isAtLeast(version, '3.9.0')));
        return {
            base: image,
            baseKnown: true,
            basePackages: full
                ? ['mlflow', ...(MLFLOW_EXTRAS.db ?? []), ...(MLFLOW_EXTRAS.extras ?? [])]
                : ['mlflow'],
        };
    }
    return { base: image, baseKnown: false, basePackages: [] };
}

/** The final stage's base image and what its RUN lines `pip install`. */
export function dockerfilePackages(text: string): ImagePackages {
    let facts: ImagePackages = {
        base: '',
        baseKnown: false,
        basePackages: [],
        added: [],
        unpinnedMlflow: [],
        requirementFiles: [],
    };
    for (const ins of instructionsOf(text)) {
        if (ins.name === 'FROM') {
            const image = ins.args.replace(/--\S+\s+/g, '').split(/\s+/)[0] ?? '';
            facts = {
                ...basePackagesOf(image),
                added: [],
                unpinnedMlflow: [],
                requirementFiles: [],
            };
        } else if (ins.name === 'RUN') {
            for (const argv of scriptCommands(ins.args)) {
                const packages = pipInstallPackages(argv);
                if (!packages) continue;
                for (const p of packages) {
                    if (p.startsWith('-r:')) facts.requirementFiles.push(p.slice(3));
                    else facts.added.push(p);
                }
                for (const word of argv) {
                    const bare = word.replace(/^["']|["']$/g, '');
                    if (/^mlflow(\[[^\]]*\])?$/i.test(bare))
                        facts.unpinnedMlflow.push({ line: ins.line, word: bare });
                }
            }
        }
    }
    return facts;
}

/** Does the image have `pkg` (any of its names)? `unknown` when the files cannot say. */
export function hasPackage(
    packages: Pick<ImagePackages, 'baseKnown' | 'basePackages' | 'added' | 'requirementFiles'>,
    names: string[],
): 'yes' | 'no' | 'unknown' {
    const wanted = new Set(names.map(normalisePackage));
    if ([...packages.basePackages, ...packages.added].some((p) => wanted.has(normalisePackage(p))))
        return 'yes';
    // Not yet: `pip install -r <file>` is not followed into the file, so such images count as
    // unknown and only a container log can prove a package missing.
    if (!packages.baseKnown || packages.requirementFiles.length > 0) return 'unknown';
    return 'no';
}
