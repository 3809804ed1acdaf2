#!/usr/bin/perl -w
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: PI_CONFIG=... pi-import.pl NAME < MBOXRD
#
# Imports an mboxrd stream into the v2 inbox NAME (already made with
# public-inbox-init -V2) using public-inbox's own mbox reader and writer,
# as upstream's scripts/import_vger_from_mbox does; public-inbox 1.9 has
# no command-line tool for this.  The import stores the messages in git
# and only the basic over/msgmap index (no Xapian terms); bench/import.sh
# then drops that and times a full `public-inbox-index` from git, which is
# what a fresh mirror (public-inbox-clone + public-inbox-index) does.
use strict;
use v5.10.1;
use PublicInbox::Config;
use PublicInbox::InboxWritable;

my $name = shift @ARGV or die "usage: $0 NAME < MBOXRD\n";
my $cfg = PublicInbox::Config->new;
my $ibx = $cfg->lookup_name($name) or die "no inbox `$name' in $cfg->{-f}\n";
$ibx = PublicInbox::InboxWritable->new($ibx);
$ibx->{indexlevel} = 'basic';
binmode STDIN;
$ibx->import_mbox(\*STDIN, 'mboxrd');
