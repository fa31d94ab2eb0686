// The runtime's tests drive it through the test kit's in-memory binding (ts-filters/testing).
export * from '../../testing/fake-binding';
