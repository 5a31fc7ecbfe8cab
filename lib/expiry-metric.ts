/**
 * The metric the daily `check-expiry` handler emits (Powertools EMF) and the expiry alarm watches:
 * the smallest number of days until the root or any cluster's intermediate expires, with dimensions
 * `service` and `mesh`. docs/workflow.md states the same contract for the handler side.
 */
export const EXPIRY_METRIC = {
  namespace: 'MeshTrust',
  metricName: 'CaExpiryHeadroomDays',
  service: 'meshtrust',
} as const;
