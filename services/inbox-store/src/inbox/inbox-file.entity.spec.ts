import { toInboxViews, type InboxFileEntity } from './inbox-file.entity';

function row(fileSeq: number, status: InboxFileEntity['status']): InboxFileEntity {
  return {
    client: 'c',
    fileSeq,
    objectKey: `k${fileSeq}`,
    sha256: 'a'.repeat(64),
    size: 10,
    txnCount: 1,
    firstSeq: fileSeq,
    lastSeq: fileSeq,
    status,
    reason: status === 'quarantined' || status === 'rejected' ? 'bad row' : null,
    rejection: status === 'rejected' ? 'skipped by the administrator' : null,
    receivedAt: new Date('2026-01-01T00:00:00Z'),
    appliedAt: status === 'applied' ? new Date('2026-01-01T00:01:00Z') : null,
  };
}

describe('toInboxViews', () => {
  it('marks received files behind a quarantined or unapplied file as waiting', () => {
    const views = toInboxViews([
      row(4, 'received'),
      row(1, 'applied'),
      row(2, 'quarantined'),
      row(3, 'received'),
    ]);
    expect(views.map((v) => [v.fileSeq, v.status, v.waiting])).toEqual([
      [1, 'applied', false],
      [2, 'quarantined', false],
      [3, 'received', true],
      [4, 'received', true],
    ]);
    expect(views[1].reason).toBe('bad row');
  });

  it('lets the files after a rejected one apply', () => {
    const views = toInboxViews([row(1, 'applied'), row(2, 'rejected'), row(3, 'received')]);
    expect(views.map((v) => [v.status, v.waiting])).toEqual([
      ['applied', false],
      ['rejected', false],
      ['received', false],
    ]);
    expect(views[1].rejection).toBe('skipped by the administrator');
  });

  it('does not mark the next file to apply as waiting', () => {
    const views = toInboxViews([row(1, 'applied'), row(2, 'received'), row(3, 'received')]);
    expect(views.map((v) => v.waiting)).toEqual([false, false, true]);
  });
});
