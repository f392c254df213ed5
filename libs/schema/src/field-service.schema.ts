import { defineSchemaHistory } from './history';

/**
 * The field-service example: a technician sees the work orders assigned to them or that they visit,
 * the sites of those work orders, their visits and the parts used on them; the parts catalogue is
 * reference data every laptop holds.
 *
 * Policies: the office schedules work orders (server-wins); a visit's report is written on site, and
 * the latest edit of it wins; parts used are counted by the technician (client-wins), and one
 * recorded on a visit the office deleted comes back rather than vanish from the stock count.
 */
export const fieldServiceHistory = defineSchemaHistory({
  name: 'field_service',
  versions: [
    {
      version: 1,
      note: 'parts catalogue, sites, work orders, visits and parts used',
      steps: [
        {
          addTable: {
            name: 'part',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'sku', type: 'text' },
              { name: 'name', type: 'text' },
              { name: 'unit_price', type: 'decimal', precision: 12, scale: 2 },
            ],
            visibility: [{ everyone: true }],
            uniqueKey: ['sku'],
          },
        },
        {
          addTable: {
            name: 'site',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'name', type: 'text' },
              { name: 'address', type: 'text', nullable: true },
            ],
            visibility: [{ referencedBy: { table: 'work_order', fk: 'site_id' } }],
            conflict: { update: 'client-wins' },
          },
        },
        {
          addTable: {
            name: 'work_order',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'site_id', type: 'uuid' },
              { name: 'number', type: 'text' },
              { name: 'title', type: 'text' },
              { name: 'status', type: 'text', default: 'open' },
              { name: 'due_on', type: 'date', nullable: true },
              { name: 'technician_login', type: 'text' },
            ],
            visibility: [
              { userColumn: 'technician_login' },
              { via: { table: 'visit', fk: 'work_order_id', userColumn: 'technician_login' } },
            ],
            uniqueKey: ['number'],
            conflict: { update: 'server-wins', delete: 'delete-wins' },
          },
        },
        {
          addTable: {
            name: 'visit',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'work_order_id', type: 'uuid' },
              { name: 'technician_login', type: 'text' },
              { name: 'started_at', type: 'timestamp', nullable: true },
              { name: 'report', type: 'text', nullable: true },
            ],
            visibility: [{ parent: { table: 'work_order', fk: 'work_order_id' } }],
            conflict: { update: 'latest-wins', delete: 'delete-wins' },
          },
        },
        {
          addTable: {
            name: 'part_used',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'visit_id', type: 'uuid' },
              { name: 'part_id', type: 'uuid' },
              { name: 'quantity', type: 'integer' },
            ],
            visibility: [{ parent: { table: 'visit', fk: 'visit_id' } }],
            conflict: { update: 'client-wins', delete: 'resurrect' },
          },
        },
      ],
    },
  ],
});

export const fieldServiceSchema = fieldServiceHistory.latest;
