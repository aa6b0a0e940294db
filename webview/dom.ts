// Building DOM nodes the only safe way: createElement, attributes from a closed list, and text
// through textContent. Server strings pass through legible() on the way in. Nothing here takes
// HTML, and no attribute that can carry a URL or a handler can be set.

import { legible } from './legible.js';

// `href`, `src`, `on*`, `style` and `srcdoc` are not in this list, so no caller can make a URL,
// a handler or a style from data, even by mistake.
type SafeAttribute =
    | 'class'
    | 'id'
    | 'role'
    | 'tabindex'
    | 'title'
    | 'type'
    | 'value'
    | 'placeholder'
    | 'label'
    | 'slot'
    | 'name'
    | 'for'
    | 'secondary'
    | 'disabled'
    | 'checked'
    | 'combobox'
    | 'hidden'
    | 'panel'
    | `aria-${string}`
    | `data-${string}`;

export type Attributes = Partial<Record<SafeAttribute, string | number | boolean | undefined>>;

export function el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    attributes: Attributes = {},
    ...children: (Node | string | undefined)[]
): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === undefined || value === false) continue;
        node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) {
        if (child === undefined) continue;
        node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
}

/** Sets a node's text from a server string: legible, cut to `limit`, full text in `title`. */
export function setServerText(node: HTMLElement, value: unknown, limit?: number): void {
    const shown = legible(value, limit);
    node.textContent = shown.text;
    // A tooltip only where the cell hides something: a cut, or a marker for an invisible character.
    if (shown.truncated || shown.text !== value) node.title = shown.title;
    else node.removeAttribute('title');
}

/** A span holding a server string, made legible. */
export function serverText(
    value: unknown,
    attributes: Attributes = {},
    limit?: number,
): HTMLSpanElement {
    const span = el('span', attributes);
    setServerText(span, value, limit);
    return span;
}

export function clear(node: Node): void {
    while (node.firstChild) node.removeChild(node.firstChild);
}

/** Calls `run` once typing has paused for `ms`. */
export function debounce<A extends unknown[]>(run: (...args: A) => void, ms: number) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return (...args: A) => {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(() => {
            timer = undefined;
            run(...args);
        }, ms);
    };
}

/** Runs `action` on click and on Enter or Space, for elements that are not native buttons. */
export function onActivate(node: HTMLElement, action: (event: Event) => void): void {
    node.addEventListener('click', action);
    node.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            action(event);
        }
    });
}
