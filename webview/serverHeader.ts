// The header: which server the explorer talks to (a select when the host knows several), its
// version, and one line per thing it cannot do. Below it the notices: errors and messages from
// the host, each dismissable.

import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';

import { clear, el, serverText, setServerText } from './dom.js';
import type { ServerInfo } from './protocol.js';

export type NoticeLevel = 'info' | 'warning' | 'error';

export class ServerHeader {
    readonly element: HTMLElement;
    private readonly serverSlot: HTMLElement;
    private readonly limits: HTMLUListElement;

    constructor(private readonly onSelect: (key: string) => void) {
        this.serverSlot = el('div', { class: 'server' });
        this.limits = el('ul', {
            class: 'server-limits',
            'data-testid': 'server-limits',
            'aria-label': 'What this server cannot do',
        });
        this.element = el(
            'header',
            { class: 'explorer-header' },
            el('h1', { class: 'title' }, 'MLflow Explorer'),
            this.serverSlot,
            this.limits,
        );
    }

    show(servers: readonly ServerInfo[], current: ServerInfo | undefined): void {
        clear(this.serverSlot);
        clear(this.limits);
        if (servers.length > 1) {
            const select = el('vscode-single-select', {
                'data-testid': 'server-select',
                'aria-label': 'MLflow server',
            });
            for (const server of servers) {
                const option = el('vscode-option', { value: server.key });
                setServerText(option, describeServer(server), 120);
                if (server.key === current?.key) option.selected = true;
                select.append(option);
            }
            select.addEventListener('change', () => {
                if (select.value && select.value !== current?.key) this.onSelect(select.value);
            });
            this.serverSlot.append(select);
        } else if (current) {
            this.serverSlot.append(
                serverText(describeServer(current), { 'data-testid': 'server-select' }, 120),
            );
        }
        if (current) {
            const version = current.version ? `MLflow ${current.version}` : 'version unknown';
            this.serverSlot.append(serverText(version, { class: 'server-version' }));
            if (current.authenticated) {
                this.serverSlot.append(el('span', { class: 'badge' }, 'signed in'));
            }
            for (const limit of current.capabilities.limits) {
                this.limits.append(limitItem(limit));
            }
        }
        this.limits.hidden = this.limits.childElementCount === 0;
    }
}

function limitItem(limit: string): HTMLLIElement {
    const item = el('li', { class: 'limit' });
    setServerText(item, limit, 400);
    return item;
}

function describeServer(server: ServerInfo): string {
    return `${server.url} (${server.origin})`;
}

export class Notices {
    readonly element: HTMLElement;

    constructor() {
        // A live region, so a screen reader announces a failure when it appears.
        this.element = el('div', { class: 'notices', role: 'status', 'aria-live': 'polite' });
    }

    show(level: NoticeLevel, message: string): void {
        // The same sentence twice (a retry that failed again) is shown once.
        for (const existing of this.element.querySelectorAll<HTMLElement>('[data-testid=notice]')) {
            if (existing.dataset['message'] === message) existing.remove();
        }
        const close = el(
            'button',
            { class: 'notice-close', type: 'button', 'aria-label': 'Dismiss' },
            '×',
        );
        const notice = el(
            'div',
            { class: `notice notice-${level}`, 'data-testid': 'notice', 'data-level': level },
            serverText(message, { class: 'notice-text' }, 600),
            close,
        );
        notice.dataset['message'] = message;
        close.addEventListener('click', () => notice.remove());
        this.element.append(notice);
        // A long session must not pile up notices; the oldest go.
        while (this.element.childElementCount > 5) this.element.firstElementChild?.remove();
    }

    clear(): void {
        clear(this.element);
    }
}
