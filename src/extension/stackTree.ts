// The Stack view: the tree model (stackModel.ts) as TreeItems. Refreshes come from the session,
// which fires on every diagnosis and every live container event.

import * as vscode from 'vscode';

import { buildStackTree, type StackNode } from './stackModel.js';
import type { StackSession } from './stackSession.js';

export const STACK_VIEW = 'stackDoctor.stack';

export class StackTree implements vscode.TreeDataProvider<StackNode>, vscode.Disposable {
    private readonly changed = new vscode.EventEmitter<StackNode | undefined>();
    readonly onDidChangeTreeData = this.changed.event;
    private roots: StackNode[] = [];
    private readonly subscription: vscode.Disposable;

    constructor(private readonly session: StackSession) {
        this.subscription = session.onDidChange(() => this.refresh());
    }

    refresh(): void {
        this.roots = buildStackTree(this.session.viewState);
        this.changed.fire(undefined);
    }

    /** The current top-level nodes, for tests and the copy command. */
    get nodes(): StackNode[] {
        return this.roots;
    }

    getChildren(node?: StackNode): StackNode[] {
        return node ? (node.children ?? []) : this.roots;
    }

    getTreeItem(node: StackNode): vscode.TreeItem {
        const state = node.children?.length
            ? node.expanded
                ? vscode.TreeItemCollapsibleState.Expanded
                : vscode.TreeItemCollapsibleState.Collapsed
            : vscode.TreeItemCollapsibleState.None;
        const item = new vscode.TreeItem(node.label, state);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.contextValue = node.contextValue;
        if (node.icon) {
            item.iconPath = new vscode.ThemeIcon(
                node.icon.id,
                node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined,
            );
        }
        if (node.open) {
            item.command = {
                command: 'stackDoctor.openLocation',
                title: 'Open',
                arguments: [node.open],
            };
        }
        return item;
    }

    dispose(): void {
        this.subscription.dispose();
        this.changed.dispose();
    }
}
