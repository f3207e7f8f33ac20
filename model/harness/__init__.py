"""The machinery around the pure core: the state machine and everything it drives a handler
with (driver, sandbox, backends, fault injection, scheduler, log capture, profiles)."""
