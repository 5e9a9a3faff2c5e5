"""Who is calling and what they may do: roles and access rules, verified tokens, principals."""
