"""A simulated company phone system: a real SIP user agent, described in YAML, that the
rest of Hold Slayer can call and test against with no phone line."""
