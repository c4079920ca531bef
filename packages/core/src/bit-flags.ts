/**
 * Boolean fields stored as bits of one number, for the objects a server holds one of per connection.
 *
 * @module
 */

/**
 * Defines boolean accessors `names` on `proto`, stored as bits `first`, `first + 1`, … of the number field
 * `field` (each instance initialises it to 0; a subclass adds its own flags above its base class's). The
 * class declares the flags with `declare`, so that no own field hides the accessors: many flags then take
 * one slot of an object instead of one each. @internal
 */
export function defineBitFlags(proto: object, field: string, names: readonly string[], first = 0): void {
  if (first + names.length > 31) throw new RangeError("defineBitFlags: at most 31 flags per field");
  for (let i = 0; i < names.length; i++) {
    const bit = 1 << (first + i);
    Object.defineProperty(proto, names[i]!, {
      get(this: Record<string, number>): boolean {
        return (this[field]! & bit) !== 0;
      },
      set(this: Record<string, number>, on: boolean) {
        this[field] = on ? this[field]! | bit : this[field]! & ~bit;
      },
      configurable: true,
    });
  }
}
