import { defineSchema } from './define-schema';

/**
 * The sales example of the scenario: an opportunity goes to its owner and its team; its account
 * and the account's contacts go with it.
 */
export const salesSchema = defineSchema({
  name: 'sales',
  version: 1,
  tables: [
    {
      name: 'account',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'name', type: 'text' },
        { name: 'owner_login', type: 'text', nullable: true },
      ],
      visibility: [
        { userColumn: 'owner_login' },
        { referencedBy: { table: 'opportunity', fk: 'account_id' } },
      ],
      uniqueKey: ['name'],
    },
    {
      name: 'contact',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'account_id', type: 'uuid' },
        { name: 'first_name', type: 'text', nullable: true },
        { name: 'last_name', type: 'text' },
        { name: 'email', type: 'text', nullable: true },
      ],
      visibility: [{ parent: { table: 'account', fk: 'account_id' } }],
    },
    {
      name: 'opportunity',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'account_id', type: 'uuid' },
        { name: 'name', type: 'text' },
        { name: 'stage', type: 'text' },
        { name: 'amount', type: 'decimal', precision: 18, scale: 2, nullable: true },
        { name: 'close_date', type: 'date', nullable: true },
        { name: 'owner_login', type: 'text' },
      ],
      visibility: [
        { userColumn: 'owner_login' },
        { via: { table: 'opportunity_team', fk: 'opportunity_id', userColumn: 'user_login' } },
      ],
    },
    {
      name: 'opportunity_team',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'opportunity_id', type: 'uuid' },
        { name: 'user_login', type: 'text' },
      ],
      visibility: [{ parent: { table: 'opportunity', fk: 'opportunity_id' } }],
    },
  ],
});

export const schemas = { sales: salesSchema } as const;
export type SchemaName = keyof typeof schemas;
