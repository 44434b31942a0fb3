/** The team shown in the OpenAPI document. */
export const TEAM_EXAMPLE = {
  metaManager: { id: '00', prompt: 'Coordinate the units.' },
  units: [
    {
      unitId: 1,
      manager: { id: '10', prompt: 'Lead the design unit.' },
      workers: [
        { id: '11', prompt: 'Draft the UI.' },
        { id: '12', prompt: 'Map the user journeys.' },
      ],
    },
    {
      unitId: 2,
      manager: { id: '20', prompt: 'Lead development.' },
      workers: [{ id: '21', prompt: 'Build the front end.' }],
    },
  ],
};
