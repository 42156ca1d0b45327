/** The kinds of value an option takes; config/schema.ts makes each a TypeBox schema. */
export type OptionType = 'string' | 'integer' | 'number' | 'address' | 'level';

/**
 * One setting of the server: its flag, environment variable, config-file key and default. The
 * README's configuration table is this list.
 */
export interface OptionSpecOf<K extends string> {
  /** Key in the config file and in FlatConfig. */
  key: K;
  flag: string;
  env: string;
  type: OptionType;
  /** The default, or a function of the machine; null = unset. */
  default: () => string | number | null;
  /** Shown in the README and `galley serve --help`. */
  description: string;
  /** Minimum for numbers (inclusive). */
  min?: number;
  /** Maximum for numbers (inclusive). */
  max?: number;
  /** The values a `string` setting may take; undefined = any non-empty string. */
  choices?: readonly string[];
  /** The flag may be given several times; the values are joined with `;`. */
  repeatable?: boolean;
}
