// Embedding the sans-IO core in your own transport (docs/guides/custom-transport.md).
//
// The core never touches a socket: a session takes bytes and the current time in (`receive`, `handleTimeout`,
// `transportClosed`) and gives bytes, events and a deadline out (`pollTransmit`, `pollEvent`, `nextTimeout`).
// An adapter is the loop that moves them. This file is a complete one for a made-up transport — an in-memory
// duplex `Link` — with a `ClientSession` on one end and a `ServerSession` on the other: the client logs in
// with SCRAM-SHA-256, binds a resource and sends a message; the server echoes it back; both close.
//
// Run it: `npx -y pnpm@10 -F @xmpp-sansio/examples custom-transport` (prints the XML both ways as C:/S:).
// A test runs this file and checks its output: test/examples.test.ts.
import { type ClientEvent, ClientSession, resolveResourceConflict, type SansIoSession, type ServerEvent, ServerSession } from "@xmpp-sansio/core";
import { deriveScramCredentials } from "@xmpp-sansio/sasl";
import { xml } from "@xmpp-sansio/xml";

// -------------------------------------------------------------------------------------------------
// 1. The transport: anything that carries bytes both ways and says when it closed. Replace this with a
//    serial line, a QUIC stream, a worker's MessagePort, stdin/stdout of a child process…

/** One end of a byte pipe. */
export interface Link {
  /** Writes bytes to the peer (delivered later, in order). */
  write(bytes: Uint8Array): void;
  /** Closes both directions; the peer's `onClose` runs. */
  close(): void;
  /** Set by the driver: bytes from the peer. */
  onData: (bytes: Uint8Array) => void;
  /** Set by the driver: the link is gone. */
  onClose: () => void;
}

/** Two connected in-memory ends; delivery is asynchronous (a microtask), like a real socket's. */
export function linkPair(): [Link, Link] {
  let open = true;
  const end = (): Link => ({ write: () => {}, close: () => {}, onData: () => {}, onClose: () => {} });
  const a = end();
  const b = end();
  const wire = (from: Link, to: Link) => {
    // pollTransmit() hands over a fresh array: it can be queued as it is, no copy.
    from.write = (bytes) => {
      if (open) queueMicrotask(() => open && to.onData(bytes));
    };
    from.close = () => {
      if (!open) return;
      open = false;
      queueMicrotask(() => {
        from.onClose();
        to.onClose();
      });
    };
  };
  wire(a, b);
  wire(b, a);
  return [a, b];
}

// -------------------------------------------------------------------------------------------------
// 2. The driver: the whole adapter contract in one function. It works for either role and any transport.

/** Moves bytes between `session` and `link`, hands every event to `onEvent`, and keeps the one timer. */
export function drive<E>(session: SansIoSession<E>, link: Link, onEvent: (ev: E) => void, onWrite?: (bytes: Uint8Array) => void): { flush(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    // Output first: the server writes <proceed/> before its `starttls` event, and answers go out in order.
    for (let out = session.pollTransmit(); out; out = session.pollTransmit()) {
      onWrite?.(out);
      link.write(out);
    }
    for (let ev = session.pollEvent(); ev; ev = session.pollEvent()) {
      onEvent(ev); // may call answer methods (answerHost, send, close…), which queue more output
      for (let out = session.pollTransmit(); out; out = session.pollTransmit()) {
        onWrite?.(out);
        link.write(out);
      }
    }
    if (session.state === "closed") {
      if (timer !== undefined) clearTimeout(timer);
      link.close();
      return;
    }
    // The session's only notion of time: the earliest `now` at which it wants handleTimeout().
    if (timer !== undefined) clearTimeout(timer);
    const at = session.nextTimeout();
    timer =
      at === undefined
        ? undefined
        : setTimeout(
            () => {
              session.handleTimeout(Date.now());
              flush();
            },
            Math.max(0, at - Date.now()),
          );
  };
  link.onData = (bytes) => {
    session.receive(bytes, Date.now());
    flush();
  };
  link.onClose = () => {
    if (session.state !== "closed") {
      session.transportClosed(Date.now());
      flush();
    }
    if (timer !== undefined) clearTimeout(timer);
  };
  return { flush };
}

// -------------------------------------------------------------------------------------------------
// 3. Both ends. TLS is `"none"`: this transport is in-process (a custom *secure* transport would say the same
//    and report its channel binding through `tlsEstablished`). PLAIN stays off; SCRAM needs no TLS.

const DOMAIN = "example.net";
const SALT = new TextEncoder().encode("a-fixed-demo-salt");
/** The server stores SCRAM keys, never the password (RFC 5802 §3). 4096 iterations: RFC 7677's minimum. */
const ACCOUNTS = new Map([["juliet", deriveScramCredentials("SHA-256", "r0m30myr0m30", SALT, 4096)]]);

/** Runs the exchange; resolves with the transcript (`C: …` / `S: …` lines) and the echoed body. */
export function runInMemoryPair(): Promise<{ transcript: string[]; echoed: string | undefined }> {
  const [clientEnd, serverEnd] = linkPair();
  const transcript: string[] = [];
  const text = (prefix: string) => (bytes: Uint8Array) => transcript.push(`${prefix}${new TextDecoder().decode(bytes)}`);
  const resources = new Map<string, Set<string>>();

  const server = new ServerSession({ tls: "none", mechanisms: ["SCRAM-SHA-256"] });
  const serverDriver = drive<ServerEvent>(
    server,
    serverEnd,
    (ev) => {
      // The server's questions are events; the answers are calls (they could come from a database, later).
      if (ev.type === "host-check") server.answerHost(ev.domain === DOMAIN);
      else if (ev.type === "scram-credentials") server.answerScramCredentials(ACCOUNTS.get(ev.username) ?? null);
      else if (ev.type === "bind-request") {
        const inUse = resources.get(ev.username) ?? new Set<string>();
        const answer = resolveResourceConflict(ev.resource, inUse, "assign-new");
        if ("accept" in answer) resources.set(ev.username, inUse.add(answer.accept));
        server.answerBind(answer);
      } else if (ev.type === "stanza" && ev.stanza.name === "message") {
        // An echo service: the message goes back to its sender (the core stamped `from`, RFC 6120 §8.1.2.1).
        const body = ev.stanza.getChildText("body") ?? "";
        server.send(xml("message", { from: DOMAIN, to: ev.stanza.attr("from"), type: "chat" }, xml("body", {}, `echo: ${body}`)));
      }
    },
    text("S: "),
  );

  return new Promise((resolve, reject) => {
    let echoed: string | undefined;
    const client = new ClientSession({ jid: `juliet@${DOMAIN}/balcony`, password: "r0m30myr0m30", tls: "none" });
    const clientDriver = drive<ClientEvent>(
      client,
      clientEnd,
      (ev) => {
        if (ev.type === "online") client.send(xml("message", { to: DOMAIN, type: "chat" }, xml("body", {}, "Art thou not Romeo?")));
        else if (ev.type === "stanza" && ev.stanza.name === "message") {
          echoed = ev.stanza.getChildText("body");
          client.close(Date.now()); // </stream:stream>; the server answers with its own and the link closes
        } else if (ev.type === "auth-failed" || ev.type === "stream-error") reject(new Error(`${ev.type}: ${ev.condition}`));
        else if (ev.type === "closed") resolve({ transcript, echoed });
      },
      text("C: "),
    );
    client.start(Date.now());
    clientDriver.flush();
    serverDriver.flush();
  });
}

// Run as a program: print the transcript, exit 0 when the echo came back.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { transcript, echoed } = await runInMemoryPair();
  for (const line of transcript) console.log(line);
  console.log(`echoed: ${echoed}`);
  process.exitCode = echoed === "echo: Art thou not Romeo?" ? 0 : 1;
}
