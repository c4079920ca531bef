// Named export of @xmpp-sansio/precis used by example.ts (kept apart to show a relative .js import resolving).
import { usernameCaseMapped } from "@xmpp-sansio/precis";

export function prepareUsername(s: string): string {
  return usernameCaseMapped(s);
}
