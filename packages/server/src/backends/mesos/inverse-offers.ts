import type { InverseOffer, MesosScheduler } from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { MesosSettings } from '../../config/mesos-settings.js';
import { authorizationOf, credentialsOf } from './framework.js';
import { MasterMaintenance } from './maintenance.js';

/** The framework as the capacity loop sees it (`maintenanceView`). */
export interface MaintenanceView {
  /** The leading master while subscribed: its agents and maintenance calls; null otherwise. */
  master: MasterMaintenance | null;
  frameworkId: string | undefined;
  tasksOn(agentId: string): number;
  inverseAnswer(agentId: string): { answer: 'ACCEPT' | 'DECLINE'; at: number } | undefined;
  /** Asks for offers of `role` again (REVIVE), so Galley hears of a drain there. */
  wantOffers(role: string): void;
}

/** The scheduler calls inverse offers are answered with. */
type InverseOfferCalls = Pick<MesosScheduler, 'acceptInverseOffers' | 'declineInverseOffers'>;

/**
 * Maintenance (spec §6.8) as the framework takes part in it: an agent being drained is vacated in
 * time when Galley runs nothing there — accept its inverse offer; with Galley's work running there,
 * decline (the capacity loop then gives the drain up). Galley's last answer per agent and the
 * leading master's maintenance client are what the capacity loop reads (`view`).
 */
export class InverseOffers {
  /** Galley's last answer to an inverse offer, by agent id. */
  private readonly answers = new Map<string, { answer: 'ACCEPT' | 'DECLINE'; at: number }>();
  /** The maintenance client of the current leading master (capacity loop), made on demand. */
  private maintenance: MasterMaintenance | null = null;

  constructor(
    private readonly o: {
      settings: MesosSettings;
      clock: Clock;
      logger: Logger;
      /** Galley's tasks on an agent now (runs and pipeline launches). */
      tasksOn: (agentId: string) => number;
    },
  ) {}

  async answer(s: InverseOfferCalls, offers: readonly InverseOffer[]): Promise<void> {
    const accept: InverseOffer[] = [];
    const decline: InverseOffer[] = [];
    for (const o of offers) (this.o.tasksOn(o.agent_id?.value ?? '') > 0 ? decline : accept).push(o);
    const now = this.o.clock.now();
    for (const o of accept) this.answers.set(o.agent_id?.value ?? '', { answer: 'ACCEPT', at: now });
    for (const o of decline) this.answers.set(o.agent_id?.value ?? '', { answer: 'DECLINE', at: now });
    this.o.logger.info(
      { accepted: accept.map((o) => o.agent_id?.value), declined: decline.map((o) => o.agent_id?.value) },
      'mesos: inverse offers answered',
    );
    try {
      if (accept.length > 0) await s.acceptInverseOffers(accept.map((o) => o.id));
      if (decline.length > 0) await s.declineInverseOffers(decline.map((o) => o.id));
    } catch (err) {
      this.o.logger.warn({ err }, 'mesos: answering inverse offers failed; the master asks again');
    }
  }

  /**
   * What the capacity loop needs of the framework: the leading master (its agents and maintenance
   * calls), the framework id, Galley's tasks per agent, its inverse-offer answers.
   */
  view(s: MesosScheduler | null): MaintenanceView {
    const master = s?.state.phase === 'SUBSCRIBED' ? s.state.master : undefined;
    if (master !== undefined && this.maintenance?.master !== master) {
      this.maintenance?.close();
      this.maintenance = new MasterMaintenance(
        master,
        credentialsOf(this.o.settings),
        authorizationOf(this.o.settings) as Record<string, string>,
      );
    }
    return {
      master: master === undefined ? null : this.maintenance,
      frameworkId: s?.id,
      tasksOn: (agentId) => this.o.tasksOn(agentId),
      inverseAnswer: (agentId) => this.answers.get(agentId),
      wantOffers: (role) => {
        // A REVIVE: the master offers the draining agent again, and with that offer comes its
        // inverse offer. The offers themselves are declined by the sweeper as unused ones are.
        void s
          ?.revive([role])
          .catch((err: unknown) => this.o.logger.debug({ err, role }, 'mesos: REVIVE failed'));
      },
    };
  }

  close(): void {
    this.maintenance?.close();
  }
}
