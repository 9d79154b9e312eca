"""MSC-EV living evidence map: records -> validated model -> verdicts -> charts -> pages -> site."""
