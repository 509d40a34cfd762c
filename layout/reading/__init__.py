"""Reading (the first stage of a compose): the paper settings, the issue's manifest and its articles."""
