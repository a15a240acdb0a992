import type { CreateIncidentInput } from '../incidents/incident.schemas.ts';

/**
 * Incidents from the report that started Dateline (seed-article.txt), headed "Assad regime says it is close to full capture of Deir ez-Zor, divided
 * since 2014" (autumn 2017). Only what the report says is recorded; everything else is empty.
 */
const source = {
  title: 'Assad regime says it is close to full capture of Deir ez-Zor, divided since 2014',
  kind: 'media_report',
  public: true,
} as const;

export interface SampleIncident {
  incident: CreateIncidentInput;
  /** Applied by a reviewer after creation, with the note kept in the history. */
  verification?: { status: 'debunked'; note: string };
}

export const sampleIncidents: SampleIncident[] = [
  {
    incident: {
      title: 'Journalists Fares Hamadi and Ibrahim Abd al-Qader killed near the Syrian border',
      description:
        'Syrian journalists Fares Hamadi and Ibrahim Abd al-Qader were killed in a town near the Syrian border (Urfa) in October 2015, the first of at least six Syrian activists and journalists slain in Turkey since then. The attack was claimed by the Islamic State.',
      date: { precision: 'month', value: '2015-10' },
      location: { country: 'TR', city: 'Urfa' },
      attackTypes: ['killing'],
      deathType: 'murder',
      victims: [
        {
          name: 'Fares Hamadi',
          nameOriginal: 'فارس حمادي',
          role: 'journalist',
          nationality: 'SY',
          outcome: 'killed',
          aliases: [],
          protected: false,
        },
        {
          name: 'Ibrahim Abd al-Qader',
          nameOriginal: 'إبراهيم عبد القادر',
          role: 'journalist',
          nationality: 'SY',
          outcome: 'killed',
          aliases: [],
          protected: false,
        },
      ],
      perpetratorClaims: [{ actorName: 'Islamic State', actorType: 'non_state_armed_group', attribution: 'claimed_by_perpetrator' }],
      sources: [source],
    },
  },
  {
    incident: {
      title: 'Journalist and activist Naji Jerf shot dead in Gaziantep',
      description: 'Prominent anti-ISIS activist and journalist Naji Jerf was shot and killed in downtown Gaziantep in December 2015.',
      date: { precision: 'month', value: '2015-12' },
      location: { country: 'TR', city: 'Gaziantep' },
      attackTypes: ['killing'],
      deathType: 'murder',
      victims: [
        {
          name: 'Naji Jerf',
          nameOriginal: 'ناجي الجرف',
          role: 'journalist',
          nationality: 'SY',
          outcome: 'killed',
          aliases: [],
          protected: false,
        },
      ],
      perpetratorClaims: [],
      sources: [source],
    },
  },
  {
    incident: {
      title: 'Orouba Barakat and her daughter Hala Barakat found stabbed to death in Istanbul',
      description:
        'Opposition activist Orouba Barakat and her daughter, journalist Hala Barakat, were found stabbed to death in their Istanbul apartment in late September 2017.',
      date: { precision: 'range', from: '2017-09-20', to: '2017-09-30' },
      location: { country: 'TR', city: 'Istanbul' },
      attackTypes: ['killing'],
      deathType: 'murder',
      victims: [
        {
          name: 'Orouba Barakat',
          nameOriginal: 'عروبة بركات',
          role: 'activist',
          gender: 'female',
          nationality: 'SY',
          outcome: 'killed',
          aliases: [],
          protected: false,
        },
        { name: 'Hala Barakat', role: 'journalist', gender: 'female', nationality: 'SY', outcome: 'killed', aliases: [], protected: false },
      ],
      perpetratorClaims: [],
      sources: [source],
    },
  },
  {
    incident: {
      title: 'Filmmaker Mohammad Bayazid reported stabbed in an assassination attempt',
      description:
        'Mohammad Bayazid, promoting his film The Tunnel about torture at the Assad regime\'s prison in Palmyra, was allegedly stabbed in the chest in Turkey and said it was an assassination attempt by regime agents. Video by one of his producers, Mohammad al-Hindi, shows conversations in May and June in which Bayazid says the "assassination" publicity will spur donations for his documentaries; the attack was reportedly faked.',
      date: { precision: 'year', value: '2017' },
      location: { country: 'TR' },
      attackTypes: ['attempted_killing'],
      victims: [
        {
          name: 'Mohammad Bayazid',
          nameOriginal: 'محمد بايزيد',
          role: 'filmmaker',
          gender: 'male',
          nationality: 'SY',
          aliases: [],
          protected: false,
        },
      ],
      perpetratorClaims: [
        {
          actorName: 'regime agents',
          actorType: 'state_security',
          attribution: 'alleged_by_victim',
          attributedBy: 'Mohammad Bayazid',
          statement: 'Bayazid claimed the attack was an assassination attempt by regime agents, apparently because of his work.',
        },
      ],
      sources: [source],
    },
    verification: {
      status: 'debunked',
      note: 'Video by producer Mohammad al-Hindi shows Bayazid planning the "assassination" publicity to attract donations.',
    },
  },
];
