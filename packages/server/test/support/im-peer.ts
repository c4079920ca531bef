// A client for the federation tests: every stanza it received, and a way to wait for one.
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { expect } from "vitest";

export class Peer {
  readonly got: XmlElement[] = [];
  private waiters: Array<{ test: (s: XmlElement) => boolean; resolve: (s: XmlElement) => void }> = [];
  readonly client: XmppClient;
  constructor(jid: string, password: string, port: number, ca: string) {
    this.client = new XmppClient({ jid, password, host: "127.0.0.1", port, tls: { ca } });
    this.client.on("stanza", (s) => {
      this.got.push(s);
      for (const w of [...this.waiters]) {
        if (w.test(s)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(s);
        }
      }
    });
  }
  next(test: (s: XmlElement) => boolean, what: string): Promise<XmlElement> {
    const i = this.got.findIndex(test);
    if (i >= 0) return Promise.resolve(this.got.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got:\n${this.got.map((g) => g.toString()).join("\n")}`)), 5000);
      this.waiters.push({
        test,
        resolve: (s) => {
          clearTimeout(timer);
          this.got.splice(this.got.indexOf(s), 1);
          resolve(s);
        },
      });
    });
  }
  send(s: XmlElement): void {
    this.client.send(s);
  }
}

export const presenceFrom = (from: string, type?: string) => (s: XmlElement) => s.name === "presence" && (s.attr("from") ?? "").split("/")[0] === from && s.attr("type") === type;
export const messageFrom = (from: string) => (s: XmlElement) => s.name === "message" && (s.attr("from") ?? "").startsWith(from);


/**
 * Mutual subscription, presence both ways, a presence change, a message each way, between `juliet` (bare
 * JID `j`, resource `balcony`) and `romeo` (bare JID `r`) on two federated servers.
 */
export async function imAcrossDomains(juliet: Peer, j: string, romeo: Peer, r: string): Promise<void> {
  juliet.send(xml("presence", { to: r, type: "subscribe" }));
  await romeo.next(presenceFrom(j, "subscribe"), "juliet's subscription request at the contact's server");
  romeo.send(xml("presence", { to: j, type: "subscribed" }));
  await juliet.next(presenceFrom(r, "subscribed"), "romeo's approval at the user's server");
  // RFC 6121 §3.1.5: once approved, the contact's available presence follows.
  await juliet.next(presenceFrom(r), "romeo's available presence at the user's server");

  romeo.send(xml("presence", { to: j, type: "subscribe" }));
  await juliet.next(presenceFrom(r, "subscribe"), "romeo's subscription request at the user's server");
  juliet.send(xml("presence", { to: r, type: "subscribed" }));
  await romeo.next(presenceFrom(j, "subscribed"), "juliet's approval at the contact's server");
  await romeo.next(presenceFrom(j), "juliet's available presence at the contact's server");

  // A presence change is broadcast to the remote subscriber.
  juliet.send(xml("presence", {}, xml("show", {}, "away")));
  const away = await romeo.next(presenceFrom(j), "juliet's new presence at the contact's server");
  expect(away.getChildText("show")).toBe("away");

  juliet.send(xml("message", { to: r, type: "chat" }, xml("body", {}, "Wherefore art thou?")));
  const m1 = await romeo.next(messageFrom(j), "juliet's message");
  expect(m1.getChildText("body")).toBe("Wherefore art thou?");
  expect(m1.attr("from")).toBe(`${j}/balcony`);
  romeo.send(xml("message", { to: `${j}/balcony`, type: "chat" }, xml("body", {}, "By a name I know not")));
  const m2 = await juliet.next(messageFrom(r), "romeo's message");
  expect(m2.getChildText("body")).toBe("By a name I know not");
}

