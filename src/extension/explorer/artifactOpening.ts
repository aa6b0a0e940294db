// How an artifact opens: images in the image preview, notebooks in the notebook editor, text and
// code in a read-only text editor, everything else offered for download. Decided by the name,
// and for unknown names by a look at the first bytes: a NUL in the first 8 KiB means binary.

export type OpeningKind = 'image' | 'notebook' | 'text' | 'download';

/** How much of a file the sniff reads. */
export const SNIFF_BYTES = 8 * 1024;

const IMAGES = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bmp', 'ico']);

const TEXT = new Set(
    (
        'txt log md markdown rst json jsonl ndjson yaml yml toml ini cfg conf env csv tsv xml ' +
        'html htm css py pyi r sql sh bash js mjs cjs ts tsx jsx java scala kt go rs c h cc ' +
        'cpp hpp cs rb pl lua jl properties gradle dockerfile makefile ' +
        'requirements lock pbtxt prototxt tex diff patch'
    ).split(' '),
);

// Files MLflow writes without an extension, or whose names say they are text.
const TEXT_NAMES = new Set(['MLmodel', 'MLproject', 'Dockerfile', 'Makefile', 'LICENSE', 'README']);

const BINARY = new Set(
    (
        'pkl pickle joblib pt pth onnx h5 hdf5 keras pb tflite bin npy npz parquet feather ' +
        'arrow avro orc zip gz tgz bz2 xz zst tar 7z jar whl so dll exe pdf safetensors ckpt ' +
        'db sqlite mp3 wav mp4 avi mov ubj cbm mlmodel'
    ).split(' '),
);

export function extensionOf(name: string): string {
    const dot = name.lastIndexOf('.');
    return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** From the name alone; undefined when the first bytes must decide. */
export function openingByName(name: string): OpeningKind | undefined {
    const extension = extensionOf(name);
    if (IMAGES.has(extension)) return 'image';
    if (extension === 'ipynb') return 'notebook';
    if (TEXT.has(extension) || TEXT_NAMES.has(name)) return 'text';
    if (BINARY.has(extension)) return 'download';
    return undefined;
}

/** Text unless the head holds a NUL byte (what git and most editors take as binary). */
export function looksLikeText(head: Uint8Array): boolean {
    return !head.subarray(0, SNIFF_BYTES).includes(0);
}

export function openingKind(name: string, head?: Uint8Array): OpeningKind {
    const byName = openingByName(name);
    if (byName) return byName;
    if (!head) return 'download';
    return looksLikeText(head) ? 'text' : 'download';
}
