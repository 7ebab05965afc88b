// A scripted HTTP server on 127.0.0.1 for the unit tests: answers the next requests in order.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Scripted {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: string;
  delayMs?: number; // holds the answer back (to provoke a timeout)
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export class ScriptedServer {
  readonly received: Received[] = [];
  private readonly script: Scripted[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.received.push({
          method: request.method ?? "",
          url: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString(),
        });
        const next = this.script.shift() ?? { status: 500, raw: "no script" };
        const text = next.raw ?? JSON.stringify(next.body);
        const answer = () => {
        if (response.destroyed) return;
        response.writeHead(next.status, {
          "Content-Type": next.raw === undefined ? "application/json" : "text/html",
          "Request-Id": "req_1",
          "RateLimit-Policy": '"key";q=25;w=1',
          RateLimit: '"key";r=24;t=1',
          ...next.headers,
        });
        response.end(text);
        };
        if (next.delayMs) setTimeout(answer, next.delayMs);
        else answer();
      });
    });
  }

  /** Forgets the answers not asked for yet (a test's leftovers never answer the next test). */
  clear(): void {
    this.script.length = 0;
  }

  respond(...answers: Scripted[]): void {
    this.script.push(...answers);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
