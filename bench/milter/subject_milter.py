#!/usr/bin/python3
"""The trivial peer for bench/milter: a python3-milter (pymilter) milter that
only reads the Subject and accepts everything. pymilter negotiates away the
callbacks it does not override.
  subject_milter.py unix:PATH
"""
import sys

import Milter


class SubjectMilter(Milter.Base):
    def __init__(self):
        self.subject = None

    @Milter.noreply
    def header(self, name, value):
        if name.lower() == "subject":
            self.subject = value
        return Milter.CONTINUE

    def eom(self):
        return Milter.ACCEPT


if __name__ == "__main__":
    Milter.factory = SubjectMilter
    Milter.runmilter("subject-milter", sys.argv[1], timeout=60)
