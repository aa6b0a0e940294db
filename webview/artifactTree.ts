// A run's (or a logged model's) artifacts as a lazy tree: each directory is listed when it is
// first expanded. Click or Enter on a file opens it in the editor through the host; the download
// button beside it saves it. Where the host read the listing from is shown, because for a broken
// stack that is the point: "read through the container archive: the server answered 404".

import { clear, el, serverText } from './dom.js';
import type { HostBridge } from './hostBridge.js';
import type {
    ArtifactEntry,
    ArtifactListing,
    ArtifactOwner,
    ArtifactSourceKind,
} from './protocol.js';
import { toErrorInfo } from './requestClient.js';

const SOURCE_LABELS: Record<ArtifactSourceKind, string> = {
    'proxied-api': 'the server’s artifact API',
    'download-route': 'the server’s download route',
    'model-files-route': 'the server’s logged-model files route',
    'host-path': 'a path on this machine',
    'bind-mount': 'the host side of the server container’s bind mount',
    'container-archive': 'the server container’s archive (Docker Engine)',
};

export function describeSource(source: ArtifactSourceKind): string {
    return SOURCE_LABELS[source] ?? source;
}

/** Entries a directory shows at once; a directory of a million files must not freeze the view. */
const ENTRY_LIMIT = 2000;

function formatSize(size: number | undefined): string {
    if (size === undefined || !Number.isFinite(size) || size < 0) return '';
    if (size < 1024) return `${size} B`;
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let value = size / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export class ArtifactTree {
    readonly element: HTMLElement;
    private readonly tree: HTMLElement;
    private readonly sourceLine: HTMLElement;

    constructor(
        private readonly bridge: HostBridge,
        private readonly owner: ArtifactOwner,
        private readonly onError: (message: string) => void,
    ) {
        this.sourceLine = el('div', {
            class: 'artifact-source muted',
            'data-testid': 'artifact-source',
        });
        this.tree = el('ul', {
            class: 'artifact-tree',
            role: 'tree',
            'aria-label': owner.kind === 'run' ? 'Run artifacts' : 'Model artifacts',
        });
        this.element = el('div', { class: 'artifacts' }, this.sourceLine, this.tree);
        this.tree.addEventListener('keydown', (event) => this.onKey(event));
    }

    async load(): Promise<void> {
        await this.expandInto(this.tree, '', 1);
    }

    /** Highlights an entry the host has just opened. */
    markOpened(path: string, source: ArtifactSourceKind): void {
        for (const item of this.tree.querySelectorAll<HTMLElement>(
            '[data-testid=artifact-entry]',
        )) {
            if (item.dataset['path'] === path) {
                item.classList.add('opened');
                item.title = `Opened, read from ${describeSource(source)}`;
            }
        }
    }

    private async expandInto(
        container: HTMLElement,
        path: string,
        level: number,
    ): Promise<boolean> {
        const loading = el('li', { class: 'muted', role: 'none' }, 'Loading…');
        container.append(loading);
        let listing: ArtifactListing;
        try {
            listing = await this.bridge.request('listArtifacts', { owner: this.owner, path });
        } catch (error) {
            loading.remove();
            const message = toErrorInfo(error).message;
            container.append(serverText(message, { class: 'artifact-error', role: 'none' }, 400));
            this.onError(message);
            return false;
        }
        loading.remove();
        if (path === '') this.showSource(listing);
        else if (listing.note) {
            container.append(
                serverText(listing.note, { class: 'artifact-note muted', role: 'none' }, 400),
            );
        }
        const entries = [...listing.entries].sort(
            (a, b) =>
                Number(b.isDir) - Number(a.isDir) ||
                (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
        );
        for (const entry of entries.slice(0, ENTRY_LIMIT)) {
            container.append(this.entryElement(entry, level));
        }
        if (entries.length > ENTRY_LIMIT) {
            // Not yet: no paging inside a directory; entries past ENTRY_LIMIT are not shown.
            container.append(
                el(
                    'li',
                    { class: 'muted', role: 'none' },
                    `${entries.length - ENTRY_LIMIT} more entries not shown.`,
                ),
            );
        }
        if (entries.length === 0 && path === '') {
            container.append(el('li', { class: 'muted', role: 'none' }, 'No artifacts.'));
        }
        this.updateTabStop();
        return true;
    }

    private showSource(listing: ArtifactListing): void {
        clear(this.sourceLine);
        this.sourceLine.append(`Read from ${describeSource(listing.source)}`);
        this.sourceLine.dataset['source'] = listing.source;
        if (listing.note) {
            this.sourceLine.append(': ', serverText(listing.note, { class: 'artifact-note' }, 400));
        } else {
            this.sourceLine.append('.');
        }
        if (listing.rootUri) {
            // A space before the block, so the text (copied, or read by a screen reader) does not
            // run the two sentences together as a line break alone would.
            this.sourceLine.append(
                ' ',
                el(
                    'span',
                    { class: 'artifact-root' },
                    'Root: ',
                    serverText(listing.rootUri, { class: 'mono' }, 200),
                ),
            );
        }
    }

    private entryElement(entry: ArtifactEntry, level: number): HTMLElement {
        const item = el('li', {
            class: `artifact-entry ${entry.isDir ? 'dir' : 'file'}`,
            role: 'treeitem',
            tabindex: -1,
            'aria-level': level,
            'data-testid': 'artifact-entry',
            'data-path': entry.path,
            'data-dir': String(entry.isDir),
            ...(entry.isDir ? { 'aria-expanded': 'false' } : {}),
        });
        const line = el(
            'div',
            { class: 'artifact-line' },
            el('span', { class: 'twisty', 'aria-hidden': 'true' }, entry.isDir ? '▸' : ''),
            serverText(entry.name, { class: 'artifact-name' }, 100),
            el('span', { class: 'muted size' }, formatSize(entry.size)),
        );
        item.append(line);
        if (entry.isDir) {
            const children = el('ul', { role: 'group' });
            children.hidden = true;
            item.append(children);
            line.addEventListener('click', (event) => {
                event.stopPropagation();
                void this.toggle(item, children, entry, level);
            });
        } else {
            const download = el(
                'button',
                {
                    type: 'button',
                    // Reached with ArrowRight from its entry, so Tab does not stop at every file.
                    tabindex: -1,
                    class: 'artifact-download',
                    'data-testid': 'artifact-download',
                    'aria-label': 'Download',
                    title: 'Download',
                },
                '⤓',
            );
            download.addEventListener('click', (event) => {
                event.stopPropagation();
                this.bridge.send({ type: 'downloadArtifact', owner: this.owner, path: entry.path });
            });
            line.append(download);
            download.addEventListener('keydown', (event) => {
                if (event.key !== 'ArrowLeft') return;
                event.preventDefault();
                event.stopPropagation();
                item.focus();
            });
            line.addEventListener('click', () => this.open(entry));
        }
        item.addEventListener('focus', () => this.rove(item));
        return item;
    }

    private open(entry: ArtifactEntry): void {
        this.bridge.send({ type: 'openArtifact', owner: this.owner, path: entry.path });
    }

    private async toggle(
        item: HTMLElement,
        children: HTMLElement,
        entry: ArtifactEntry,
        level: number,
    ): Promise<void> {
        const expand = item.getAttribute('aria-expanded') !== 'true';
        item.setAttribute('aria-expanded', String(expand));
        const twisty = item.querySelector('.twisty');
        if (twisty) twisty.textContent = expand ? '▾' : '▸';
        children.hidden = !expand;
        if (expand && item.dataset['loaded'] !== 'true') {
            item.dataset['loaded'] = 'true';
            // A failed listing may be retried by collapsing and expanding again.
            if (!(await this.expandInto(children, entry.path, level + 1))) {
                item.dataset['loaded'] = 'false';
            }
        } else if (!expand && item.dataset['loaded'] === 'false') {
            clear(children);
        }
    }

    private visibleItems(): HTMLElement[] {
        return [...this.tree.querySelectorAll<HTMLElement>('[role=treeitem]')].filter(
            (item) => !item.parentElement?.closest('[hidden]'),
        );
    }

    /** One tab stop for the tree: the focused (or first) entry. */
    private updateTabStop(): void {
        const items = this.visibleItems();
        if (!items.some((i) => i.tabIndex === 0) && items[0]) items[0].tabIndex = 0;
    }

    private rove(target: HTMLElement): void {
        for (const item of this.tree.querySelectorAll<HTMLElement>('[role=treeitem]')) {
            item.tabIndex = item === target ? 0 : -1;
        }
    }

    private onKey(event: KeyboardEvent): void {
        const current = (event.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
        // Keys on the download button are the button's own (Enter presses it).
        if (!current || event.target !== current) return;
        const items = this.visibleItems();
        const at = items.indexOf(current);
        const isDir = current.dataset['dir'] === 'true';
        const expanded = current.getAttribute('aria-expanded') === 'true';
        const line = current.querySelector<HTMLElement>(':scope > .artifact-line');
        let target: HTMLElement | undefined;
        switch (event.key) {
            case 'ArrowDown':
                target = items[at + 1];
                break;
            case 'ArrowUp':
                target = items[at - 1];
                break;
            case 'Home':
                target = items[0];
                break;
            case 'End':
                target = items[items.length - 1];
                break;
            case 'ArrowRight':
                if (isDir && !expanded) line?.click();
                else if (isDir) target = items[at + 1];
                else current.querySelector<HTMLElement>('.artifact-download')?.focus();
                break;
            case 'ArrowLeft':
                if (isDir && expanded) line?.click();
                else
                    target =
                        current.parentElement?.closest<HTMLElement>('[role=treeitem]') ?? undefined;
                break;
            case 'Enter':
            case ' ':
                line?.click();
                break;
            default:
                return;
        }
        event.preventDefault();
        if (target) {
            this.rove(target);
            target.focus();
        }
    }
}
