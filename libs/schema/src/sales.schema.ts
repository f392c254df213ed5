import { defineSchemaHistory } from './history';

/**
 * The sales example of the scenario: an opportunity goes to its owner and its team; its account
 * and the account's contacts go with it.
 *
 * Conflict policies differ per table, as a sales organisation would set them: opportunities keep
 * Siebel Remote's server-wins and delete-wins; an account's details are best known by the rep who
 * last visited (client-wins); contact details go to the latest edit, and a contact deleted at the
 * office but updated in the field comes back (its details are worth more than the delete).
 *
 * Writes follow visibility (a rep changes only what the rep sees); accounts and opportunities may
 * be handed to a colleague from the field, which takes them out of the rep's own visibility;
 * contacts and team rows stay where the rep can see them.
 */
export const salesHistory = defineSchemaHistory({
  name: 'sales',
  versions: [
    {
      version: 1,
      note: 'accounts, contacts, opportunities and their teams',
      steps: [
        {
          addTable: {
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
            conflict: { update: 'client-wins', delete: 'delete-wins' },
            write: { handOff: true },
          },
        },
        {
          addTable: {
            name: 'contact',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'account_id', type: 'uuid' },
              { name: 'first_name', type: 'text', nullable: true },
              { name: 'last_name', type: 'text' },
              { name: 'email', type: 'text', nullable: true },
            ],
            visibility: [{ parent: { table: 'account', fk: 'account_id' } }],
            conflict: { update: 'latest-wins', delete: 'resurrect' },
          },
        },
        {
          addTable: {
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
            conflict: { update: 'server-wins', delete: 'delete-wins' },
            write: { handOff: true },
          },
        },
        {
          addTable: {
            name: 'opportunity_team',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'opportunity_id', type: 'uuid' },
              { name: 'user_login', type: 'text' },
            ],
            visibility: [{ parent: { table: 'opportunity', fk: 'opportunity_id' } }],
          },
        },
      ],
    },
    {
      version: 2,
      note: 'a win probability on opportunities; activities (calls, meetings) planned on an opportunity',
      steps: [
        {
          addColumn: {
            table: 'opportunity',
            column: { name: 'probability', type: 'integer', default: 10 },
          },
        },
        {
          addTable: {
            name: 'activity',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'opportunity_id', type: 'uuid' },
              { name: 'subject', type: 'text' },
              { name: 'due_on', type: 'date', nullable: true },
              { name: 'owner_login', type: 'text' },
              { name: 'done', type: 'boolean', default: false },
            ],
            // The owner of the activity, and whoever sees its opportunity.
            visibility: [
              { userColumn: 'owner_login' },
              { parent: { table: 'opportunity', fk: 'opportunity_id' } },
            ],
            conflict: { update: 'latest-wins', delete: 'delete-wins' },
          },
        },
      ],
    },
    {
      version: 3,
      note: "a contact's phone; activities looked up by due date",
      steps: [
        { addColumn: { table: 'contact', column: { name: 'phone', type: 'text', nullable: true } } },
        { addIndex: { table: 'activity', columns: ['due_on'] } },
      ],
    },
  ],
});

/** The current version of the sales schema. */
export const salesSchema = salesHistory.latest;
