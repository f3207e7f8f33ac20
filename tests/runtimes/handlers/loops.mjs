// A test handler stuck in a loop of its own: its event loop never turns again.
export const handler = async () => {
  for (;;) {
    // spin
  }
};
