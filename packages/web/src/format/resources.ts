/** CPU in millicores (flotilla's unit) as `0.5 CPU` / `2 CPUs`. */
export function formatMillicores(millicores: number | undefined | null): string {
  if (millicores === undefined || millicores === null) return '—';
  return formatCpus(millicores / 1000);
}

/** CPU count (fractions allowed) as `0.25 CPU` / `4 CPUs`. */
export function formatCpus(cpus: number | undefined | null): string {
  if (cpus === undefined || cpus === null) return '—';
  const text = Number.isInteger(cpus) ? String(cpus) : cpus.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
  return `${text} ${cpus === 1 || cpus < 1 ? 'CPU' : 'CPUs'}`;
}

/** Memory in MB as `512 MB` / `1.5 GB`. */
export function formatMemoryMb(mb: number | undefined | null): string {
  if (mb === undefined || mb === null) return '—';
  if (mb >= 1024) {
    const gb = mb / 1024;
    return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`;
  }
  return `${Math.round(mb)} MB`;
}
