#!/usr/bin/perl -w
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: pi-search.pl INBOX_DIR LIMIT QUERY
#
# public-inbox 1.9 has no search command line tool (that is `lei q`, a
# separate package), so this does what its WWW search page does for one
# query: parse with public-inbox's query parser (d:YYYYMMDD..YYYYMMDD,
# f:, "phrase"), newest first, LIMIT hits, then fetch each hit's overview
# row (date, sender, subject) and print one line per hit.
use strict;
use v5.10.1;
use PublicInbox::Inbox;

my ($dir, $limit, @q) = @ARGV;
die "usage: $0 INBOX_DIR LIMIT QUERY\n" unless defined $dir && @q;
my $ibx = PublicInbox::Inbox->new({ inboxdir => $dir, name => 'bench',
				version => 2, -primary_address => 'bench@example' });
my $srch = $ibx->isrch or die "$dir: no search index\n";
my $qstr = join(' ', @q);
my $mset = $srch->mset($qstr, { limit => $limit, relevance => 0 });
my (undef, $hits) = $srch->mset_to_smsg($ibx, $mset);
for my $smsg (@$hits) {
	printf "%d %s %s\n", $smsg->{ds}, $smsg->{from_name} // '',
		$smsg->{subject} // '';
}
printf "# %d of about %d\n", $mset->size, $mset->get_matches_estimated;
