// Where each role lands after signing in. Residents and members work on their phones: the H5.
export const HOME_BY_ROLE: Record<string, string> = {
  community_staff: '/community',
  grid_leader: '/grid',
  street_staff: '/area',
  district_staff: '/area',
  unit_org: '/unit',
}

export const H5_HOME = '/h5/'

export function homeOf(role: string): string {
  return HOME_BY_ROLE[role] ?? H5_HOME
}
