// Kubernetes' LabelSelector matched against a set of labels, as the API server matches a
// `labelSelector` query (apimachinery's LabelSelectorAsSelector): pure, so a step that already listed a
// cluster's pods can tell which ones a workload or a PodDisruptionBudget selects without asking again.

/** A metav1.LabelSelector as a workload's or a budget's `spec.selector` holds it. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

/**
 * Whether `labels` match every term of `selector` (an empty selector matches every set of labels):
 * matchLabels each equal; `In` the key present with one of the values; `NotIn` the key absent or
 * with none of them; `Exists` and `DoesNotExist` the key present or absent. Undefined when an
 * expression has an operator Kubernetes does not have (the caller decides what that means: the API
 * server never stores one).
 */
export function labelSelectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean | undefined {
  let matches = true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(labels, key) || labels[key] !== value) matches = false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        if (!has || !values.includes(labels[key] as string)) matches = false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key] as string)) matches = false;
        break;
      case 'Exists':
        if (!has) matches = false;
        break;
      case 'DoesNotExist':
        if (has) matches = false;
        break;
      default:
        return undefined;
    }
  }
  return matches;
}
