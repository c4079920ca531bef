// Runs under `deno test` (spawned by test/deno.test.ts): the workspace sources load in Deno.
import { FramedParser } from "@xmpp-sansio/xml";
import { parseJid } from "@xmpp-sansio/jid";

Deno.test("workspace sources load and run in Deno", () => {
  const el = new FramedParser().parse(new TextEncoder().encode("<message xmlns='jabber:client'><body>hi</body></message>"));
  if ("condition" in el) throw new Error(el.text);
  if (el.getChildText("body") !== "hi") throw new Error("wrong body");
  if (parseJid("Juliet@Example.com/balcony").bare.toString() !== "juliet@example.com") throw new Error("jid");
});
