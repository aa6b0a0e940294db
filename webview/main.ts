// The explorer webview's entry point, bundled by esbuild into dist/webview.js (browser, iife).
// The host's HTML loads it with a nonce under a strict CSP; it builds the page with DOM calls
// only and waits for the host's `init`.

import './explorer.css';

import { startExplorer } from './explorerApp.js';

function root(): HTMLElement {
    const existing = document.getElementById('app');
    if (existing) return existing;
    const created = document.createElement('div');
    created.id = 'app';
    document.body.append(created);
    return created;
}

startExplorer(root());
