/** Roster management (RFC 6121 §2). */
export const NS_ROSTER = "jabber:iq:roster";
/** XEP-0191 blocking command. */
export const NS_BLOCKING = "urn:xmpp:blocking";
/** XEP-0191 application error condition `<blocked/>`. */
export const NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors";
/** XEP-0027 encrypted message. */
export const NS_X_ENCRYPTED = "jabber:x:encrypted";
/** XEP-0027 signed presence. */
export const NS_X_SIGNED = "jabber:x:signed";
/** Message envelope (jabber:x:envelope, superseded by XEP-0033). */
export const NS_X_ENVELOPE = "jabber:x:envelope";
/** XEP-0022 message events. */
export const NS_X_EVENT = "jabber:x:event";
/** XEP-0023 message expiration. */
export const NS_X_EXPIRE = "jabber:x:expire";
/** XEP-0066 out-of-band data in messages. */
export const NS_X_OOB = "jabber:x:oob";
/** XEP-0093 roster item exchange (embedded roster items). */
export const NS_X_ROSTER = "jabber:x:roster";
/** XEP-0054 vcard-temp. */
export const NS_VCARD = "vcard-temp";
/** XEP-0203 delayed delivery. */
export const NS_DELAY = "urn:xmpp:delay";
