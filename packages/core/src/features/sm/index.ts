export { type AckResult, add32, diff32, Ledger, parseH } from "./ledger.js";
export { type ResolvedSmOptions, type ResumeAnswer, NS_SM, type SmContext, SmHalf, SmClient, SmServer, smClient, smClientFeature, smServer, smServerFeature, type StreamManagementOptions, streamManagement } from "./sm.js";
export { exportSmState, importSmState, parseStanzas, serializeStanzas } from "./state.js";
export { type DetachedSessionsOptions, DetachedSessions, type ExpiredSession, type TakeResult } from "./detached.js";
