// Benchmarks of the server-to-server sessions (initiating core ↔ receiving core in one process, no I/O,
// TLS simulated: the receiving side is told the initiator's verified certificate names).
// Run: pnpm -F @xmpp-sansio/core bench:s2s
import { xml } from "@xmpp-sansio/xml";
import { S2SInitiatorSession, S2SReceiverSession, verifyDialbackKey } from "../src/index.js";
import { random } from "./support.js";

const SECRET = "dialback secret";

interface Link {
  out: S2SInitiatorSession;
  inb: S2SReceiverSession;
}

function pump(l: Link, cert: boolean): void {
  for (let moved = true; moved; ) {
    moved = false;
    for (let b = l.out.pollTransmit(); b; b = l.out.pollTransmit()) {
      if (l.inb.state !== "tls-handshake") l.inb.receive(b, 0);
      moved = true;
    }
    for (let ev = l.inb.pollEvent(); ev; ev = l.inb.pollEvent()) {
      moved = true;
      if (ev.type === "host-check") l.inb.answerHost(true);
      else if (ev.type === "starttls") l.inb.tlsEstablished({ channelBinding: {}, ...(cert ? { peerIdentities: ["capulet.example"] } : {}) }, 0);
      // Dialback: the authoritative check done inline (in production: a <db:verify/> over another stream).
      else if (ev.type === "dialback-result-request") l.inb.answerDialbackResult(ev.from, ev.to, { valid: verifyDialbackKey(SECRET, ev.to, ev.from, ev.streamId, ev.key) });
    }
    for (let b = l.inb.pollTransmit(); b; b = l.inb.pollTransmit()) {
      if (l.out.state !== "tls-handshake") l.out.receive(b, 0);
      moved = true;
    }
    for (let ev = l.out.pollEvent(); ev; ev = l.out.pollEvent()) {
      moved = true;
      if (ev.type === "starttls") l.out.tlsEstablished({ channelBinding: {} }, 0);
    }
  }
}

function negotiate(cert: boolean): Link {
  const l = { out: new S2SInitiatorSession({ from: "capulet.example", to: "montague.example", dialbackSecret: SECRET, random }), inb: new S2SReceiverSession({ random }) };
  l.out.start(0);
  pump(l, cert);
  if (l.out.state !== "online" || l.inb.state !== "online") throw new Error("not online");
  return l;
}

function rate(label: string, seconds: number, fn: () => void, per = 1): void {
  for (let i = 0; i < 50; i++) fn();
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    fn();
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`${label}: ${Math.round((n * per) / s)} /s`);
}

rate("s2s negotiation, STARTTLS + SASL EXTERNAL (restart)", 2, () => negotiate(true));
rate("s2s negotiation, STARTTLS + dialback (XEP-0185 key made and checked)", 2, () => negotiate(false));
const l = negotiate(true);
const stanza = () => xml("message", { from: "juliet@capulet.example/balcony", to: "romeo@montague.example", type: "chat" }, xml("body", {}, "Wherefore art thou?"));
rate("s2s stanzas through an online link (checked, parsed)", 2, () => {
  for (let i = 0; i < 100; i++) l.out.send(stanza());
  pump(l, true);
  for (let ev = l.inb.pollEvent(); ev; ev = l.inb.pollEvent());
}, 100);
