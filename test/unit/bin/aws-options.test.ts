import { meshIdOf } from '../../../bin/cli/aws-options.js';

describe('meshIdOf', () => {
  it('takes --mesh-id over the environment', () => {
    // Act
    const meshId = meshIdOf({ meshId: 'flag' }, { MESH_ID: 'functions', MESHTRUST_MESH_ID: 'lab' });

    // Assess
    expect(meshId).toBe('flag');
  });

  it("takes the functions' MESH_ID over a lab env file's MESHTRUST_MESH_ID", () => {
    // Act
    const meshId = meshIdOf({}, { MESH_ID: 'functions', MESHTRUST_MESH_ID: 'lab' });

    // Assess
    expect(meshId).toBe('functions');
  });

  it('skips an empty or blank MESH_ID, as a shell that exported it empty leaves it', () => {
    // Act
    const meshIds = [
      meshIdOf({}, { MESH_ID: '', MESHTRUST_MESH_ID: 'lab' }),
      meshIdOf({}, { MESH_ID: '  ', MESHTRUST_MESH_ID: 'lab' }),
    ];

    // Assess
    expect(meshIds).toEqual(['lab', 'lab']);
  });

  it('says there is none when nothing names one', () => {
    // Act
    const meshId = meshIdOf({}, { MESH_ID: '', AWS_REGION: 'eu-west-1' });

    // Assess
    expect(meshId).toBeUndefined();
  });
});
