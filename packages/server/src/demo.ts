import { XmppClient } from "@xmpp-sansio/node";
import { xml } from "@xmpp-sansio/xml";
import { AccountStore } from "./accounts.js";
import { startServer } from "./server.js";

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where transcript lines go. Default `console.log`. */
  readonly print?: (line: string) => void;
  /** Colour the C:/S: prefixes (ANSI). Default false. */
  readonly colour?: boolean;
  /** The SASL mechanisms the clients may use, in preference order. */
  readonly mechanisms?: readonly string[];
}

/** What the demo observed, for tests. */
export interface DemoResult {
  /** The full JID juliet was bound to. */
  readonly julietJid: string;
  /** The full JID romeo was bound to. */
  readonly romeoJid: string;
  /** Bodies received by romeo, then by juliet. */
  readonly received: readonly string[];
  /** The SASL mechanism each client used (from the transcript: SASL2 `<authenticate/>` or RFC 6120 `<auth/>`). */
  readonly mechanisms: readonly string[];
  /** The XML both ways as printed (`C:`/`S:` lines per client), in order. */
  readonly transcript: readonly string[];
}

const DOMAIN = "im.example.com";
const decoder = new TextDecoder();

/**
 * The README's main job: starts the demo server on loopback with a generated certificate and two
 * accounts, logs juliet and romeo in (STARTTLS, SCRAM-SHA-256-PLUS with tls-exporter when TLS 1.3 gives
 * channel binding), exchanges the messages of RFC 6120 §9.1 between them, closes everything, and prints
 * the XML each client sent (C:) and received (S:).
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const paint = (code: number, s: string) => (options.colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const transcript: string[] = [];
  const say = (line: string) => {
    transcript.push(line);
    print(line);
  };

  const accounts = new AccountStore();
  accounts.add("juliet", "r0m30myr0m30");
  accounts.add("romeo", "j0liet");
  const running = await startServer({ domain: DOMAIN, accounts, port: 0, log: (line) => say(paint(90, `   [server] ${line}`)) });
  say(paint(90, `   [server] listening on 127.0.0.1:${running.port} for ${DOMAIN} (self-signed certificate, STARTTLS required)`));

  const mechanisms = options.mechanisms ?? ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"];
  const used: string[] = [];
  const connect = (jid: string, password: string, who: string) => {
    const client = new XmppClient({
      jid,
      password,
      host: "127.0.0.1",
      port: running.port!,
      tls: { ca: running.certificate },
      session: { mechanisms },
      trace: (direction, bytes) => {
        const text = decoder.decode(bytes);
        const mechanism = /<auth(?:enticate)? [^>]*mechanism=['"]([^'"]+)['"]/.exec(text)?.[1];
        if (direction === "out" && mechanism) used.push(mechanism);
        const prefix = direction === "out" ? paint(36, `${who} C:`) : paint(33, `${who} S:`);
        say(`${prefix} ${text}`);
      },
      onSecure: (socket) => {
        const cb = socket.getProtocol() === "TLSv1.3" ? "tls-exporter" : "tls-unique";
        say(paint(90, `${who}    [TLS established: ${socket.getProtocol()}, ${socket.getCipher().name}; channel binding ${cb}; the stream restarts]`));
      },
    });
    return client;
  };

  const juliet = connect(`juliet@${DOMAIN}/balcony`, "r0m30myr0m30", "juliet");
  const romeo = connect(`romeo@${DOMAIN}/orchard`, "j0liet", "romeo ");
  const received: string[] = [];
  try {
    // One after the other, so the transcript reads like RFC 6120 §9.1.
    const julietJid = await juliet.online();
    const romeoJid = await romeo.online();
    const romeoGot = new Promise<string>((resolve) => romeo.once("message", (m) => resolve(m.getChildText("body") ?? "")));
    juliet.send(xml("message", { to: romeoJid.toString(), type: "chat", id: "ju2ba41c", "xml:lang": "en" }, xml("body", {}, "Art thou not Romeo, and a Montague?")));
    received.push(await romeoGot);
    const julietGot = new Promise<string>((resolve) => juliet.once("message", (m) => resolve(m.getChildText("body") ?? "")));
    romeo.send(xml("message", { to: julietJid.toString(), type: "chat", id: "ju2ba41c", "xml:lang": "en" }, xml("body", {}, "Neither, fair saint, if either thee dislike.")));
    received.push(await julietGot);
    await Promise.all([juliet.close(), romeo.close()]);
    return { julietJid: julietJid.toString(), romeoJid: romeoJid.toString(), received, mechanisms: used, transcript };
  } finally {
    await Promise.allSettled([juliet.close(), romeo.close()]);
    await running.close();
  }
}
