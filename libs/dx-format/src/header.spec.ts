import { checkHeader } from './validate';
import { uploadHeaderFor } from './header';

describe('uploadHeaderFor', () => {
  it('takes the seq range and count from the transactions, and the header is valid', () => {
    const header = uploadHeaderFor('laptop-1', 3, [{ seq: 7 }, { seq: 8 }, { seq: 9 }]);
    expect(header).toMatchObject({
      client: 'laptop-1',
      fileSeq: 3,
      direction: 'upload',
      firstSeq: 7,
      lastSeq: 9,
      count: 3,
    });
    expect(checkHeader(header)).toEqual(header);
  });

  it('takes a range when the transactions are made later, and zeros for an empty file', () => {
    expect(uploadHeaderFor('l', 1, { firstSeq: 5, count: 2 })).toMatchObject({
      firstSeq: 5,
      lastSeq: 6,
      count: 2,
    });
    expect(uploadHeaderFor('l', 1, { firstSeq: 5, count: 0 })).toMatchObject({
      firstSeq: 0,
      lastSeq: 0,
      count: 0,
    });
    expect(uploadHeaderFor('l', 1, [])).toMatchObject({ firstSeq: 0, lastSeq: 0, count: 0 });
  });

  it('lets the caller set the rest', () => {
    const header = uploadHeaderFor('l', 1, [{ seq: 1 }], {
      schemaVersion: 2,
      createdAt: '2024-05-01T08:00:00.000Z',
    });
    expect(header).toMatchObject({ schemaVersion: 2, createdAt: '2024-05-01T08:00:00.000Z' });
  });
});
