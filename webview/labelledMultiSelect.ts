// vscode-multi-select with a face that says what the choice means. The stock face always reads
// "N Selected": "0 Selected" for a status filter that lets every status through, "9 Selected" for
// columns of which three are in view. Each use gives its own `describe`.

import { VscodeMultiSelect } from '@vscode-elements/elements/dist/vscode-multi-select/vscode-multi-select.js';
import { html } from 'lit';

export interface MultiSelectFace {
    text: string;
    /** Plain text rather than a count badge (e.g. "All statuses"). */
    plain?: boolean;
}

export class LabelledMultiSelect extends VscodeMultiSelect {
    describe: (selectedCount: number) => MultiSelectFace = (count) => ({
        text: `${count} Selected`,
    });

    /** Redraws the face when what `describe` reads has changed outside the selection. */
    refreshFace(): void {
        this.requestUpdate();
    }
}

// The stock face comes from a private render method; replacing it on the prototype is the only
// hook. Lit escapes the interpolated text, so the face stays text-only. Should a release rename
// the method, the stock "N Selected" face simply comes back.
Object.defineProperty(LabelledMultiSelect.prototype, '_renderLabel', {
    value(this: LabelledMultiSelect) {
        const face = this.describe(this.selectedIndexes.length);
        return html`<span class=${face.plain ? 'select-face-badge no-item' : 'select-face-badge'}
            >${face.text}</span
        >`;
    },
});

customElements.define('sd-labelled-multi-select', LabelledMultiSelect);

declare global {
    interface HTMLElementTagNameMap {
        'sd-labelled-multi-select': LabelledMultiSelect;
    }
}
