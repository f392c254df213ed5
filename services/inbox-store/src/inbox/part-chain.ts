export interface StoredPart {
  key: string;
  offset: number;
  size: number;
}

/**
 * The parts that make the file's first bytes without a hole, in order: from offset 0, each part
 * starts where the previous one ended. A part off that chain (left by an agent that changed its
 * part size, or by two requests racing) is ignored; the whole file's sha256 is checked at the end
 * anyway, so a wrong chain can only be refused, never stored.
 */
export function partChain(parts: StoredPart[]): StoredPart[] {
  const byOffset = new Map<number, StoredPart>();
  for (const part of parts) if (part.size > 0) byOffset.set(part.offset, part);
  const chain: StoredPart[] = [];
  let end = 0;
  for (let next = byOffset.get(end); next; next = byOffset.get(end)) {
    chain.push(next);
    end += next.size;
  }
  return chain;
}

export const chainBytes = (chain: StoredPart[]): number => chain.reduce((n, p) => n + p.size, 0);
