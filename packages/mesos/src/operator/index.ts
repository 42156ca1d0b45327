/** The master's operator API: maintenance (schedules, status, machines down and up). */
export {
  MaintenanceClient,
  sameMachine,
  type MachineId,
  type MaintenanceClientOptions,
  type MaintenanceStatus,
  type MaintenanceWindow,
  type InverseOfferStatus,
} from './maintenance.js';
