import { chainBytes, partChain, type StoredPart } from './part-chain';

const part = (offset: number, size: number): StoredPart => ({ key: `k${offset}`, offset, size });

describe('partChain', () => {
  it('follows the parts from offset 0 in order, whatever order they were listed in', () => {
    const chain = partChain([part(20, 5), part(0, 10), part(10, 10)]);
    expect(chain.map((p) => p.offset)).toEqual([0, 10, 20]);
    expect(chainBytes(chain)).toBe(25);
  });

  it('stops at the first hole, so bytes after it are sent again', () => {
    expect(chainBytes(partChain([part(0, 10), part(20, 10)]))).toBe(10);
  });

  it('holds nothing without a part at offset 0, or with only empty parts', () => {
    expect(partChain([part(10, 10)])).toEqual([]);
    expect(partChain([part(0, 0)])).toEqual([]);
  });

  it('ignores a part that starts inside another', () => {
    expect(chainBytes(partChain([part(0, 10), part(5, 10), part(10, 3)]))).toBe(13);
  });
});
