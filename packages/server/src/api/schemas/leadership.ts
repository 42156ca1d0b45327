import { type Static, Type } from '@sinclair/typebox';

/** Who leads the replicas on one store, as /health and /ping tell it. */
export const LeadershipJson = Type.Object({
  leader: Type.Boolean({ description: 'Whether the replica that answers leads (schedules).' }),
  replica: Type.String({ description: 'The id of the replica that answers.' }),
  leader_id: Type.Union([Type.String(), Type.Null()], {
    description:
      'The replica that holds the scheduler lease; null while none does (an election is under way).',
  }),
  leader_url: Type.Union([Type.String(), Type.Null()], { description: "The leader's URL, when known." }),
  epoch: Type.Union([Type.Integer(), Type.Null()], {
    description: "The lease's fencing epoch: it grows with every new leadership.",
  }),
  leader_since: Type.Union([Type.String(), Type.Null()], {
    description: 'When the current leadership began (ISO 8601).',
  }),
  replicas: Type.Array(
    Type.Object({ id: Type.String(), host: Type.String(), url: Type.Union([Type.String(), Type.Null()]) }),
    { description: 'The live replicas (each serves the whole API).' },
  ),
});
export type LeadershipJson = Static<typeof LeadershipJson>;
