// A counting HTTP proxy on loopback (a TCP port or a unix socket) in front of the MLflow server's
// published port or the Docker Engine's socket, so a test can tell how many requests the
// extension made in a window of time. Streaming answers (Docker's event stream) are piped as
// they come; a request counts when it starts.

import http from 'node:http';
import { existsSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
    at: number;
    method: string;
    url: string;
}

export type ProxyEndpoint = { port: number } | { socketPath: string };

export class CountingProxy {
    readonly requests: ProxiedRequest[] = [];
    private readonly server: http.Server;

    private constructor(
        private readonly listen: ProxyEndpoint,
        private readonly target: ProxyEndpoint,
    ) {
        this.server = http.createServer((request, response) => this.forward(request, response));
        // Docker's attach and exec upgrade the connection; nothing in these tests needs them.
        this.server.on('upgrade', (request, socket) => {
            this.record(request);
            socket.end('HTTP/1.1 501 Not Implemented\r\n\r\n');
        });
    }

    static async start(listen: ProxyEndpoint, target: ProxyEndpoint): Promise<CountingProxy> {
        const proxy = new CountingProxy(listen, target);
        if ('socketPath' in listen && existsSync(listen.socketPath)) rmSync(listen.socketPath);
        await new Promise<void>((resolve, reject) => {
            proxy.server.once('error', reject);
            if ('port' in listen) proxy.server.listen(listen.port, '127.0.0.1', resolve);
            else proxy.server.listen(listen.socketPath, resolve);
        });
        return proxy;
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    /** Requests that started at or after `since` (ms since the epoch). */
    since(since: number): ProxiedRequest[] {
        return this.requests.filter((r) => r.at >= since);
    }

    private record(request: http.IncomingMessage): void {
        this.requests.push({
            at: Date.now(),
            method: request.method ?? '?',
            url: request.url ?? '',
        });
    }

    private forward(request: http.IncomingMessage, response: http.ServerResponse): void {
        this.record(request);
        const upstream = http.request(
            {
                ...('port' in this.target
                    ? { host: '127.0.0.1', port: this.target.port }
                    : { socketPath: this.target.socketPath }),
                method: request.method,
                path: request.url,
                headers: request.headers,
                timeout: 120_000,
            },
            (answer) => {
                response.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(response);
            },
        );
        upstream.on('error', (error) => {
            if (!response.headersSent) response.writeHead(502);
            response.end(String(error));
        });
        upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')));
        response.on('close', () => upstream.destroy());
        request.pipe(upstream);
    }

    async stop(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
        if ('socketPath' in this.listen) rmSync(this.listen.socketPath, { force: true });
    }
}
