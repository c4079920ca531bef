// Shared by the Deno test files: how to talk to the servers vitest started (passed via env).
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { type XmppClient, type XmppClientOptions } from "@xmpp-sansio/deno";

export const PASSWORDS: Record<string, string> = { juliet: "r0m30myr0m30", romeo: "j0liet" };

export function env(name: string): string | undefined {
  return Deno.env.get(name);
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** Logs two clients in, sends a message from the first to the second, checks it arrives, closes both. */
export async function exchange(make: (user: string, extra?: Partial<XmppClientOptions>) => XmppClient): Promise<{ julietJid: string; romeoJid: string }> {
  const juliet = make("juliet");
  const romeo = make("romeo");
  try {
    const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
    const body = `Deno says hi ${crypto.randomUUID()} ☃`;
    const got = new Promise<XmlElement>((resolve) => romeo.once("message", resolve));
    juliet.send(xml("message", { to: rj.toString(), type: "chat" }, xml("body", {}, body)));
    const m = await got;
    assert(m.getChildText("body") === body, `wrong body: ${m.getChildText("body")}`);
    assert(m.attr("from") === jj.toString(), `wrong from: ${m.attr("from")}`);
    return { julietJid: jj.toString(), romeoJid: rj.toString() };
  } finally {
    await Promise.all([juliet.close(), romeo.close()]);
  }
}
