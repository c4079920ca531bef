/**
 * A minimal typed event emitter with Node's `on`/`once`/`off`/`emit`/`listenerCount` signatures, for
 * runtimes without `node:events` (browsers, Deno without node compat).
 *
 * @module
 */

/** Event name → listener argument tuple, like Node's `EventEmitter<T>`. */
export type EventMap = { [K: string]: unknown[] };

/** An interface of events (name → argument tuple), with or without an index signature. */
export type EventsOf<T> = { [K in keyof T]: unknown[] };

// biome-ignore lint/suspicious/noExplicitAny: listeners are stored untyped; the public methods are typed
type Listener = (...args: any[]) => void;

/** A typed emitter. Listener exceptions propagate to the `emit` caller, as with Node's. */
export class TypedEmitter<T extends EventsOf<T>> {
  private readonly handlers = new Map<keyof T, Array<{ fn: Listener; once: boolean }>>();

  /** Adds a listener. */
  on<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    this.add(event, listener, false);
    return this;
  }

  /** Adds a listener removed after its first call. */
  once<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    this.add(event, listener, true);
    return this;
  }

  /** Removes a listener (the last one added, if added several times). */
  off<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    const list = this.handlers.get(event);
    if (list === undefined) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.fn === (listener as Listener)) {
        list.splice(i, 1);
        break;
      }
    }
    return this;
  }

  /** Calls the listeners of `event` in order; returns whether there were any. */
  emit<K extends keyof T>(event: K, ...args: T[K]): boolean {
    const list = this.handlers.get(event);
    if (list === undefined || list.length === 0) return false;
    for (const entry of [...list]) {
      if (entry.once) this.off(event, entry.fn);
      entry.fn(...args);
    }
    return true;
  }

  /** How many listeners `event` has. */
  listenerCount<K extends keyof T>(event: K): number {
    return this.handlers.get(event)?.length ?? 0;
  }

  private add<K extends keyof T>(event: K, fn: (...args: T[K]) => void, once: boolean): void {
    let list = this.handlers.get(event);
    if (list === undefined) this.handlers.set(event, (list = []));
    list.push({ fn: fn as Listener, once });
  }
}
