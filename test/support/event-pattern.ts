// EventBridge's event pattern matching, for the patterns cascade's rules use: a field matches
// when its value (or, for an array, any element) equals one of the listed values, nested objects
// match field by field, and fields the pattern does not name are ignored. Patterns using other
// operators (prefix, anything-but, numeric, exists) are refused rather than guessed at.
type Pattern = { [field: string]: Pattern | Array<string | number | boolean | null> };

export function matchesEventPattern(pattern: Pattern, event: unknown): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  const record = event as Record<string, unknown>;
  return Object.entries(pattern).every(([field, rule]) => {
    const value = record[field];
    if (Array.isArray(rule)) {
      for (const allowed of rule) {
        if (allowed !== null && typeof allowed === 'object') throw new Error(`operator ${JSON.stringify(allowed)} in field ${field} is not supported here`);
      }
      const values = Array.isArray(value) ? value : [value];
      return values.some((v) => v !== undefined && rule.includes(v as string));
    }
    return matchesEventPattern(rule, value);
  });
}
