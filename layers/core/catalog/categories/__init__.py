"""Categories: the tree products are filed under."""
